"""POST /cache/warm and /cache/clear: replay queries into the response cache, or drop entries (``pampax cache``)."""

from pampax.api import entry_point, lambda_app, read_request
from pampax.config import load_config
from pampax.models import CacheClearRequest, CacheWarmRequest

CONFIG = load_config().config
service, app = lambda_app(CONFIG)


@app.post("/cache/warm")
def post_warm() -> dict:
    return service.warm(read_request(app, CacheWarmRequest, CONFIG.runtime.max_body_bytes)).model_dump(mode="json")


@app.post("/cache/clear")
def post_clear() -> dict:
    return service.clear(read_request(app, CacheClearRequest, CONFIG.runtime.max_body_bytes)).model_dump(mode="json")


lambda_handler = entry_point(app, service.telemetry)
