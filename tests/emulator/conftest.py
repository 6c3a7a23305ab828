"""pytest fixtures: one emulator process per session, reset and seeded per test.

The emulator runs as a subprocess (`server.py --port 0`), exactly as guardsync's
own integration tests would start it. Clients use dummy base credentials,
which the emulator attributes to DEFAULT_ACCOUNT (the delegated administrator
of scenarios/basic.yaml); `Emu.client(..., account=X)` assumes a role in X.
"""

import json
import os
import pathlib
import subprocess
import sys

import boto3
import pytest
import requests
import yaml
from botocore.config import Config

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_ACCOUNT = "111111111111"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})


@pytest.fixture(scope="session")
def endpoint():
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--port", "0", "--default-account", DEFAULT_ACCOUNT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("guardsync-emulator listening on "):
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r} {proc.stderr.read()}")
    yield line.rsplit(" ", 1)[1]
    proc.terminate()
    proc.wait(timeout=10)


def load_scenario(name: str) -> dict:
    return yaml.safe_load((HERE / "scenarios" / name).read_text())


class Emu:
    def __init__(self, url: str):
        self.url = url
        self.session = boto3.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                     aws_secret_access_key="dummy", region_name="us-east-1")
        self._creds: dict = {}

    def ctl(self, method: str, route: str, body=None, **params):
        r = requests.request(method, f"{self.url}/_guardsync/{route}", json=body, params=params,
                             timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def seed(self, scenario) -> dict:
        self.ctl("POST", "reset")
        self._creds.clear()
        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        return self.ctl("POST", "seed", scenario)

    def calls(self) -> list:
        return self.ctl("GET", "calls")["calls"]

    def client(self, service: str, region: str = "us-east-1", account: str | None = None,
               config: Config = NO_RETRY):
        kwargs = {}
        if account and account != DEFAULT_ACCOUNT:
            if account not in self._creds:
                sts = self.session.client("sts", region_name=region, endpoint_url=self.url,
                                          config=config)
                c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/GuardSyncMemberRole",
                                    RoleSessionName="guardsync")["Credentials"]
                self._creds[account] = c
            c = self._creds[account]
            kwargs = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                          aws_session_token=c["SessionToken"])
        return self.session.client(service, region_name=region, endpoint_url=self.url,
                                   config=config, **kwargs)

    def detector(self, account: str, region: str = "us-east-1") -> str:
        return self.ctl("GET", "guardduty", account=account, region=region)["detector_id"]


@pytest.fixture
def emu(endpoint):
    e = Emu(endpoint)
    e.seed("basic.yaml")
    e.ctl("DELETE", "calls")
    return e


def put_list(emu: Emu, key: str = "guardduty/list.txt", body: bytes = b"198.51.100.7\n") -> str:
    s3 = emu.client("s3")
    s3.put_object(Bucket="org-threat-lists-111111111111", Key=key, Body=body)
    return f"s3://org-threat-lists-111111111111/{key}"


def dumps(x) -> str:
    return json.dumps(x)
