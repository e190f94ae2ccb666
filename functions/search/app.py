"""POST /search: ranked hits from the warm, shared index (the same JSON as ``pampax search --format json``)."""

from pampax.api import entry_point, lambda_app, read_request
from pampax.config import load_config
from pampax.models import SearchRequest

CONFIG = load_config().config
service, app = lambda_app(CONFIG)


@app.post("/search")
def post_search() -> dict:
    request = read_request(app, SearchRequest, CONFIG.runtime.max_body_bytes, {"limit": CONFIG.search.limit})
    return service.search(request).model_dump(mode="json")


lambda_handler = entry_point(app, service.telemetry)
