"""Pydantic's JSON Schema, made what client generators and validators expect of OpenAPI 3.1.

Pydantic writes some constraints under its own names (`ge`, `decimal_places`), cannot express
what the request models' validators require beyond their fields' types, and knows an alias only
as a validation choice; each is fixed here once, for every model of the document.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel

from risiti.api import models


def for_clients(definitions: dict[str, Any]) -> dict[str, Any]:
    """The models' schemas (the `$defs` pydantic wrote) as the document's components."""
    components: dict[str, Any] = standard(definitions)
    for name, rule in RULES.items():
        if name not in components:  # a dialect's document has none of the native requests
            continue
        described = components[name].get("description", "")
        components[name]["description"] = f"{described}\n\n{rule}".strip()
    _aliases(components)
    return components


# What the request models' validators require beyond their fields' types, said in words. As a
# top-level `anyOf` of partial schemas it was exact for validators, but client generators build
# no model of it (openapi-python-client's `create_invoice` did not import); a request that
# breaks one is answered 422 `validation_error` naming the field.
RULES: dict[str, str] = {
    "ItemIn": "A line needs a `description` (or `name`), or a `product_id` or `sku`; and a "
    "`unit_price` (or its alias `price` or `rate`) unless it names a product, whose price it "
    "then takes.",
    "CreateInvoiceRequest": "Needs a customer: `customer`, `customer_id` (or its alias "
    "`recipient_ref` or `recipient`), or `customer_name`. Every field is also accepted in "
    "camelCase (`acceptPartialPayments`), as Paycashless sends it.",
}


def _aliases(components: dict[str, Any]) -> None:
    """Each seed API's name of a field (Kredo's `qty`, Duplo's `recipient_ref`) as a property of
    its own, documented as the alias it is: the server accepts either (docs/api.md)."""
    for name, schema in components.items():
        model = getattr(models, name, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for field_name, info in model.model_fields.items():
            if not isinstance(info.validation_alias, AliasChoices):
                continue
            canonical, *aliases = (str(choice) for choice in info.validation_alias.choices)
            assert not info.is_required(), f"{name}.{field_name}: a required field's alias"
            prop = schema["properties"][canonical]
            # No default shown: a client that sends every default would send `quantity: 1`
            # beside the `qty` its user set, and the canonical name wins.
            if "default" in prop and prop["default"] is not None:
                prop["description"] = (
                    f"{prop.get('description', '')} Default {prop['default']}.".strip()
                )
            prop.pop("default", None)
            documented = {key: value for key, value in prop.items() if key != "title"}
            for alias in aliases:
                schema["properties"][alias] = documented | {
                    "description": f"An alias of `{canonical}`; send one of the two."
                }


# Pydantic writes a constraint it cannot push into the inner schema (a field whose type has a
# `BeforeValidator`, such as `MinorUnits | None`) under its own name; JSON Schema's names:
_CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}


# Keywords whose keys are names (of properties, of definitions), not keywords.
_NAMED = ("properties", "$defs", "patternProperties")


def _keyword(key: str) -> str:
    return _CONSTRAINTS.get(key, key)


def _named(schemas: dict[str, Any]) -> dict[str, Any]:
    return {name: standard(schema) for name, schema in schemas.items()}


def standard(schema: Any) -> Any:
    """`schema` with pydantic's constraint names as JSON Schema's; `decimal_places` (no JSON
    Schema equivalent) said in the description instead."""
    if isinstance(schema, list):
        return [standard(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed: dict[str, Any] = {
        _keyword(key): _named(value) if key in _NAMED else standard(value)
        for key, value in schema.items()
    }
    places = fixed.pop("decimal_places", None)
    if places is not None:
        fixed["description"] = (
            fixed.get("description", "") + f" At most {places} decimal places."
        ).strip()
    return fixed


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: never null, so no null branch or default."""
    if "anyOf" not in schema:
        return schema
    branches = [b for b in schema["anyOf"] if b != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf" and (k, v) != ("default", None)}
    only: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    return rest | only
