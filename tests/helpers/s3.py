"""A real S3 API for the tests: moto's server (HTTP on 127.0.0.1, a port the kernel gives it), one
per test process, so every pytest-xdist worker has its own; each test gets a bucket of its own.
Where moto cannot start, the tests that need it skip on a developer's machine and fail where the
services are promised (tests/helpers/services.py)."""
from __future__ import annotations

import uuid

from tests.helpers.services import missing

ACCESS = {"AWS_ACCESS_KEY_ID": "huddle-test", "AWS_SECRET_ACCESS_KEY": "huddle-test-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}
REGION = "us-east-1"


class S3Server:
    """moto's S3 in a thread of this process, until stop()."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer

            # Port 0: bound at once by the server itself, so nothing can take it meanwhile.
            self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.server.start()
            host, port = self.server.get_host_and_port()
        except Exception as error:  # noqa: BLE001 - whatever stops it, the tests say so
            missing(f"moto's S3 server could not start: {error!r}")
        self.endpoint = f"http://{host}:{port}"

    def bucket(self) -> str:
        """A new, empty bucket's name."""
        import boto3

        name = f"huddle-test-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                              aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"])
        client.create_bucket(Bucket=name)
        client.close()
        return name

    def url(self, bucket: str, prefix: str = "") -> str:
        """The HUDDLE_STORAGE_URL of a bucket here."""
        return f"s3://{bucket}{'/' + prefix if prefix else ''}?endpoint={self.endpoint}&region={REGION}"

    def stop(self) -> None:
        self.server.stop()
