"""The HTTP API (FastAPI): streams, rankings and object time series; served by uvicorn or AWS Lambda (Mangum)."""
