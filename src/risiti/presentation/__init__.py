"""What people and programs are shown: the invoice's wire document, webhook payloads, the hosted
page's view model and HTML, the PDF, email and SMS bodies. Pure: each takes domain objects and
does no I/O, so commands, queries and workers all render the same way (docs/architecture.md)."""
