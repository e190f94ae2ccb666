"""GET /health: config, index, cache and artifact-pointer checks (``pampax health``).

200 when healthy or degraded (requests are answered), 503 when unhealthy (nothing valid is served).
"""

from pampax import runtime
from pampax.api import entry_point, lambda_app
from pampax.config import load_config

CONFIG = load_config().config
service, app = lambda_app(CONFIG)


@app.get("/health")
def get_health():
    report = service.health(artifact_pointer=lambda: runtime.accessor(CONFIG, service.telemetry).describe())
    return report.model_dump(mode="json"), 503 if report.status == "unhealthy" else 200


lambda_handler = entry_point(app, service.telemetry)
