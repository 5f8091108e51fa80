"""AWS Lambda entry point: API Gateway (HTTP API, payload v2) events -> the ASGI app, through Mangum.

Lifespan is off (the app needs no start-up work); the pooled engine lives as long as the Lambda container.
"""

from __future__ import annotations

from mangum import Mangum

from api.app import app

handler = Mangum(app, lifespan="off")
