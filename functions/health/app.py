"""GET /health: config, index, cache and artifact-pointer checks (``pampax health``); 503 when unhealthy."""

from pampax import runtime
from pampax.api import entry_point, lambda_app
from pampax.config import load_config

CONFIG = load_config().config
service, app = lambda_app(CONFIG)


@app.get("/health")
def get_health():
    report = service.health(artifact_pointer=lambda: runtime.accessor(CONFIG, service.telemetry).describe())
    return report.model_dump(mode="json"), 200 if report.status == "healthy" else 503


lambda_handler = entry_point(app, service.telemetry)
