"""Another worker's rename, for tests of what every worker sees: in a process of its own, on the
same database, `username` sets their display name through the rename service.

    python -m tests.helpers.rename_elsewhere DATABASE_URL DATA_DIR USERNAME DISPLAY_NAME

(tests/helpers/postgres.py in_child runs it and reads its last line.)"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def rename(url: str, data_dir: str, username: str, display_name: str) -> dict:
    from app import create_app
    from app.accounts import names
    from app.config import Settings
    from app.models import User

    app = create_app(Settings(data_dir=Path(data_dir), database_url=url, secret_key="another worker",
                              base_url="http://localhost", link_previews=False))
    async with app.test_app(), app.app_context():
        user = await User.get(username=username)
        await names.set_display_name(user, user, display_name)
    return {"renamed": username, "display_name": display_name}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(rename(*sys.argv[1:5]))))
