"""POST /index queues an index job (202 + job id); the SQS records that follow build and publish it.

One function serves both event sources, so the code that validates a job and the code that runs it
deploy together. A record that fails for a reason a retry could cure (the store, an internal error)
is reported back to SQS (partial batch response), which retries it and, past the redrive limit,
moves it to the dead-letter queue; a job that can never succeed (not JSON, an unsafe or missing
archive) is logged as failed and consumed at once.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pampax import jobs
from pampax.api import entry_point, lambda_telemetry, make_resolver, read_request
from pampax.config import load_config
from pampax.stores import open_queue, open_store

CONFIG = load_config().config
telemetry = lambda_telemetry(CONFIG)
app = make_resolver(telemetry)
processor = BatchProcessor(event_type=EventType.SQS)


@app.post("/index")
def post_index():
    request = read_request(app, jobs.IndexJobRequest, CONFIG.runtime.max_body_bytes)
    return jobs.enqueue(open_queue(CONFIG), request, telemetry).model_dump(mode="json"), 202


def run_job(record: SQSRecord) -> str | None:
    return jobs.run_record(record.body, open_store(CONFIG), CONFIG, telemetry)


def run_records(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=run_job, processor=processor, context=context)


lambda_handler = entry_point(app, telemetry, records=run_records)
