"""Product endpoints: the catalogue, and stock adjustments (docs/api.md, "Inventory")."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from risiti.api.envelope import if_match, list_place, ok, page, parse_body, parse_query
from risiti.api.errors import ApiError
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import (
    AdjustStockRequest,
    CreateProductRequest,
    ListQuery,
    UpdateProductRequest,
)
from risiti.commands import products
from risiti.commands.errors import NotFoundError
from risiti.domain.product import Product
from risiti.presentation.products import product_record
from risiti.queries import products as product_queries


async def create_product(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateProductRequest)
    command = products.CreateProduct(request[CALLER], **body.model_dump())
    product = await products.create_product(ledger_for(request), command)
    return _product_response(product, status=201)


async def list_products(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    result = await product_queries.list_products(
        ledger_for(request),
        request[CALLER],
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def get_product(request: web.Request) -> web.Response:
    product = await product_queries.get_product(
        ledger_for(request), request[CALLER], _product_id(request)
    )
    return _product_response(product)


async def update_product(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateProductRequest)
    command = products.UpdateProduct(
        request[CALLER], _product_id(request), body.changes(), expected_version=if_match(request)
    )
    product = await products.update_product(ledger_for(request), command)
    return _product_response(product)


async def adjust_stock(request: web.Request) -> web.Response:
    body = await parse_body(request, AdjustStockRequest)
    command = products.AdjustStock(request[CALLER], _product_id(request), **body.model_dump())
    adjustment = await products.adjust_stock(ledger_for(request), command)
    # 200 for a reference seen before: nothing was applied this time.
    status = 200 if adjustment.replayed else 201
    # An adjustment is read in its product's stock: that is where the new one shows.
    location = {"Location": f"/v1/products/{adjustment.product.id}"} if status == 201 else None
    return ok(products.adjustment_record(adjustment), status=status, headers=location)


def _product_response(product: Product, *, status: int = 200) -> web.Response:
    headers = {"ETag": f'"{product.version}"'}
    if status == 201:
        headers["Location"] = f"/v1/products/{product.id}"
    return ok(product_record(product), status=status, headers=headers)


def _product_id(request: web.Request) -> UUID:
    value = request.match_info["id"]
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, NotFoundError.code, f"No product with id '{value}'.") from None
