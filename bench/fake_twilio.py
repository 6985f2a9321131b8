"""A fake Twilio Messages API in its own process, for the channel benchmark.

Answers `POST /2010-04-01/Accounts/<sid>/Messages.json` with 201 and a Message resource, and
appends every message it receives (`To`, `Body`, time) as a JSON line to `--log`, so the
benchmark counts replies per conversation after the run.

    python -m bench.fake_twilio --port 8766 --log replies.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 (open for the process's life)

    async def create(request: web.Request) -> web.Response:
        form = await request.post()
        sid = "SM" + uuid.uuid4().hex
        log.write(
            json.dumps({"to": form.get("To"), "body": form.get("Body"), "at": time.time()}) + "\n"
        )
        account = request.match_info["account"]
        return web.json_response(
            {
                "account_sid": account,
                "api_version": "2010-04-01",
                "body": form.get("Body"),
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "num_media": "0",
                "num_segments": "1",
                "sid": sid,
                "status": "queued",
                "to": form.get("To"),
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            status=201,
        )

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", create)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
