"""`psgdiag serve`: the diagnosis as a small web application and HTTP API (Starlette + uvicorn).

Nothing here is imported by the other commands: starlette and uvicorn are the optional
`psgdiag[serve]` extra, loaded only when the server starts (see psgdiag.cli.serve_cli).
"""
