"""POST /index queues an index job (202 + job id); the SQS records that follow build and publish it.

One function serves both event sources, so the code that validates a job and the code that runs it
deploy together. A record that fails is reported back to SQS (partial batch response), which
retries it and, past the redrive limit, moves it to the dead-letter queue.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pampax import jobs
from pampax.api import CORRELATION_ID_PATH, lambda_telemetry, make_resolver, read_request
from pampax.config import load_config
from pampax.stores import open_queue, open_store

CONFIG = load_config().config
telemetry = lambda_telemetry(CONFIG)
logger = telemetry.logger
app = make_resolver(telemetry)
processor = BatchProcessor(event_type=EventType.SQS)


@app.post("/index")
def post_index():
    request = read_request(app, jobs.IndexJobRequest, CONFIG.runtime.max_body_bytes)
    return jobs.enqueue(open_queue(CONFIG), request, telemetry).model_dump(mode="json"), 202


def run_job(record: SQSRecord) -> str:
    return jobs.run_message(record.body, open_store(CONFIG), CONFIG, telemetry).generation


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
def lambda_handler(event, context):
    if "Records" in event:  # from the SQS event source mapping, not API Gateway
        return process_partial_response(event=event, record_handler=run_job, processor=processor, context=context)
    return app.resolve(event, context)
