"""A member of the site."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from app import lookalikes
from app.domain import storable
from app.models import hashing, usernames

if TYPE_CHECKING:
    from app.models.session import UserSession

# The key of the PostgreSQL advisory lock that serialises decisions about who is an administrator.
ADMINS_LOCK = 4_848_454_100


def _sql(conn: BaseDBAsyncClient, query: str) -> str:
    """A query written with ? placeholders, in the connection's style (asyncpg's are $1, $2, ...)."""
    if conn.capabilities.dialect != "postgres":
        return query
    first, *rest = query.split("?")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, 1))


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=30)
    # Case-folded, NFKC-normalised username: what makes a name unique.
    username_key = fields.CharField(max_length=30, unique=True)
    # Its two Unicode TR39 skeletons (usernames.skeletons), unique so that no two names look alike,
    # even registered at the same moment. NULL only where a name already looked like an older
    # account's when this rule came in (migration 7 kept both accounts); new rows always get them.
    username_skeleton = fields.CharField(max_length=usernames.SKELETON_MAX_LENGTH, null=True, unique=True)
    username_shown_skeleton = fields.CharField(max_length=usernames.SKELETON_MAX_LENGTH, null=True, unique=True)
    # What people are called in messages and lists ("Ada Lovelace"); "" shows the username.
    display_name = fields.CharField(max_length=usernames.DISPLAY_NAME_MAX, default="")
    # Its Unicode TR39 skeleton (case-folded): where two people could be taken for each other (the
    # same display name, or one like someone's username) the username is shown beside it. Not
    # unique: look-alike display names are allowed and told apart by their @usernames.
    display_name_skeleton = fields.CharField(
        max_length=usernames.DISPLAY_NAME_MAX * lookalikes.SKELETON_GROWTH, null=True, db_index=True
    )
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)
    # Their picture (app/files/avatars.py): storage keys of the square webp at the sizes shown
    # (`avatar` 256 px, `avatar_small` 64 px); NULL: generated initials on a colour from the id.
    avatar = fields.CharField(max_length=64, null=True)
    avatar_small = fields.CharField(max_length=64, null=True)

    sessions: fields.ReverseRelation[UserSession]

    class Meta:
        table = "users"
        ordering = ["username_key"]

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        """What lists and messages call this person: the display name, else the username."""
        return self.display_name or self.username

    def set_display_name(self, display_name: str) -> None:
        """The (already checked) display name and its skeleton (not saved)."""
        self.display_name = display_name
        self.display_name_skeleton = lookalikes.folded_skeleton(display_name) if display_name else None

    def set_username(self, username: str) -> None:
        """The name and the columns that keep it unique and unlike any other (not saved)."""
        self.username, self.username_key = username, usernames.key(username)
        self.username_skeleton, self.username_shown_skeleton = usernames.skeletons(username)

    async def save(self, *args, **kwargs) -> None:
        # Every new row gets its skeletons, however it is made (create_account, tests, tools).
        if not self._saved_in_db and self.username_skeleton is None and self.username_shown_skeleton is None:
            self.username_skeleton, self.username_shown_skeleton = usernames.skeletons(self.username)
        await super().save(*args, **kwargs)

    @classmethod
    async def by_username(cls, username: str) -> User | None:
        key = usernames.key(username)
        if not key or len(key) > usernames.MAX_LENGTH or not storable(key):
            return None  # no such name can exist (and the column would refuse the lookup)
        return await cls.get_or_none(username_key=key)

    @classmethod
    async def create_account(
        cls, username: str, email: str, password: str | None = None, *, is_admin: bool = False,
        password_hash: str | None = None, display_name: str = "",
    ) -> User:
        """A new user from already-checked values (app.accounts.rules.check_new_account). Inside a
        transaction, pass password_hash (hashed before it) rather than password."""
        return await cls.create(
            username=username,
            username_key=usernames.key(username),
            display_name=display_name,
            display_name_skeleton=lookalikes.folded_skeleton(display_name) if display_name else None,
            email=email,
            password_hash=password_hash or await hashing.hash_password(password),
            is_admin=is_admin,
        )

    # Who is an administrator is decided by the statements below, each inside a transaction that
    # first called lock_admins(), so such transactions take turns. Each statement also decides in
    # one go (no count-then-save). The lock is what PostgreSQL needs: at READ COMMITTED, two
    # transactions demoting two different admins would each still count the other's admin and
    # both succeed (tests/test_races.py shows it). On SQLite the single statements alone would do
    # (one writer at a time); the lock also spares another process a "database is locked" error
    # halfway through.

    @staticmethod
    async def lock_admins(conn: BaseDBAsyncClient) -> None:
        """Wait until no other transaction is deciding who is an administrator (until commit)."""
        if conn.capabilities.dialect == "postgres":
            await conn.execute_query(_sql(conn, "SELECT pg_advisory_xact_lock(?)"), [ADMINS_LOCK])
        else:  # SQLite: a write that changes nothing takes the database's write lock now
            await conn.execute_query("UPDATE users SET is_admin = is_admin WHERE 1 = 0")

    @staticmethod
    async def revoke_admin_unless_last(conn: BaseDBAsyncClient, user_id: int) -> bool:
        """Make the user no administrator, unless they are the last one. False when refused (or
        when the user is gone); True also when they were no administrator to begin with."""
        changed, _ = await conn.execute_query(
            _sql(conn, "UPDATE users SET is_admin = FALSE WHERE id = ? AND (NOT is_admin OR "
                       "(SELECT COUNT(*) FROM users WHERE is_admin) > 1)"),
            [user_id],
        )
        return changed == 1

    @staticmethod
    async def claim_first_admin(conn: BaseDBAsyncClient, user_id: int) -> bool:
        """The first account becomes the administrator: True if no other user exists."""
        changed, _ = await conn.execute_query(
            _sql(conn, "UPDATE users SET is_admin = TRUE WHERE id = ? AND NOT EXISTS "
                       "(SELECT 1 FROM users WHERE id <> ?)"),
            [user_id, user_id],
        )
        return changed == 1
