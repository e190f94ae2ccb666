"""POST /assemble: a token-budgeted bundle from the warm, shared index (``pampax assemble --format json``)."""

from pampax.api import entry_point, lambda_app, read_request
from pampax.config import load_config
from pampax.models import AssembleRequest

CONFIG = load_config().config
service, app = lambda_app(CONFIG)


@app.post("/assemble")
def post_assemble() -> dict:
    defaults = {"seeds": CONFIG.assemble.seeds, "max_items": CONFIG.assemble.max_items}
    request = read_request(app, AssembleRequest, CONFIG.runtime.max_body_bytes, defaults)
    return service.assemble(request).model_dump(mode="json")


lambda_handler = entry_point(app, service.telemetry)
