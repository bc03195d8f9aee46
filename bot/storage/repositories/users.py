"""People: one row per platform identity, found or created on every message."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.dialect import insert_for, is_postgresql, person_turn, table_of, turn_key
from bot.storage.models import ConversationState, User

# Writing last_seen_at on every message would make every message a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


StateRows = dict[tuple[int, str], ConversationState | None]


@functools.cache
def _in_chat() -> Any:
    """The person and their conversation in one chat, built once (this runs for every
    message: building it each time cost more CPU than the round trip)."""
    return (
        select(User, ConversationState)
        .outerjoin(
            ConversationState,
            and_(
                ConversationState.user_id == User.id,
                ConversationState.chat_id == bindparam("chat_id", type_=String()),
            ),
        )
        .where(
            User.platform == bindparam("platform", type_=String()),
            User.platform_user_id == bindparam("platform_user_id", type_=String()),
        )
    )


@functools.cache
def _new_person(postgresql: bool) -> Any:
    """A new person's row, or nothing when their identity is there already; the ORM
    hands back the User it made (in the session, as if added and flushed)."""
    return (
        insert_for(postgresql)(User)
        .on_conflict_do_nothing(index_elements=["platform", "platform_user_id"])
        .returning(User)
    )


def count_turn(taken: Any) -> Any:
    """The CTE that counts a person's turn in their row (``users.turn + 1``; the
    person named by the ``of_platform`` and ``of_person`` parameters), once ``taken``
    (a selectable whose rows mean the advisory lock is held) has rows. Reading
    ``taken`` first means the lock is taken before the row lock, in the order every
    unit of work takes them; the row stays locked until the unit of work ends, and the
    express path sees that the turn moved (bot.storage.express)."""
    users = table_of(User)
    return (
        update(users)
        .where(
            # Named apart from the columns: an UPDATE takes parameters named after
            # them as its SET values.
            users.c.platform == bindparam("of_platform", type_=String()),
            users.c.platform_user_id == bindparam("of_person", type_=String()),
            exists(select(taken)),
        )
        .values(turn=users.c.turn + 1)
        .cte("counted")
    )


@functools.cache
def _take_turn() -> Any:
    """The person's turn (PostgreSQL), counted in their row as the dedupe record does
    (bot.storage.repositories.events)."""
    lock = person_turn(bindparam("turn_name", type_=String())).label("taken")
    taken = select(lock).cte("taken")
    # Selected from ``taken``: the lock is taken even when the person has no row yet.
    return select(taken.c.taken).add_cte(count_turn(taken.c.taken))


class UserRepo:
    def __init__(
        self,
        session: AsyncSession,
        state_rows: StateRows | None = None,
        turns: set[tuple[str, str]] | None = None,
    ) -> None:
        self.session = session
        # The people whose turn this unit of work holds (EventRepo.first_time takes it).
        self.turns: set[tuple[str, str]] = set() if turns is None else turns
        # The conversation rows read with the person (get_or_create's ``chat_id``),
        # shared with this unit of work's StateRepo, so it need not read them again.
        self.state_rows: StateRows = {} if state_rows is None else state_rows

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def find(self, platform: str, platform_user_id: str) -> User | None:
        result = await self.session.execute(
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
        )
        return result.scalar_one_or_none()

    async def _find_in_chat(
        self, platform: str, platform_user_id: str, chat_id: str
    ) -> User | None:
        """The person and their conversation in ``chat_id`` in one SELECT, once this
        unit of work holds the person's turn (PostgreSQL: usually taken with the
        dedupe record; else here, one statement before). So two messages of one person
        handled at once take turns, and a double tap is seen as stale: the second
        reads the conversation as the first left it. (A row lock in this SELECT would
        not do: after the wait its joined rows would still be the old ones.)"""
        person = (platform, platform_user_id)
        if person not in self.turns and is_postgresql(self.session):
            await self.session.execute(
                _take_turn(),
                {
                    "turn_name": turn_key(*person),
                    "of_platform": platform,
                    "of_person": platform_user_id,
                },
            )
            self.turns.add(person)
        result = await self.session.execute(
            _in_chat(),
            {"platform": platform, "platform_user_id": platform_user_id, "chat_id": chat_id},
        )
        found = result.first()
        if found is None:
            return None
        user: User = found[0]
        row: ConversationState | None = found[1]
        self.state_rows[(user.id, chat_id)] = row
        return user

    async def get_or_create(
        self,
        *,
        platform: str,
        platform_user_id: str,
        now: datetime,
        language: str,
        display_name: str | None = None,
        private_chat_id: str | None = None,
        admin: bool = False,
        chat_id: str | None = None,
    ) -> tuple[User, bool]:
        """The user for a platform identity, creating it on first contact.

        With ``chat_id``, the person's conversation in that chat is read in the same
        query (for the StateRepo of this unit of work): one round trip for both.
        """
        if chat_id is None:
            user = await self.find(platform, platform_user_id)
        else:
            user = await self._find_in_chat(platform, platform_user_id, chat_id)
        created = False
        if user is None:
            user, created = await self._create(
                new_person(
                    platform,
                    platform_user_id,
                    now,
                    language=language,
                    display_name=display_name,
                    private_chat_id=private_chat_id,
                    admin=admin,
                )
            )
        if created and chat_id is not None:
            self.state_rows[(user.id, chat_id)] = None  # new: no conversation yet
        if not created:
            _note_contact(user, now, display_name, private_chat_id)
        _sync_admin(user, admin)
        return user, created

    async def _create(self, values: dict[str, Any]) -> tuple[User, bool]:
        """Insert the person; when another worker created the same identity a moment
        ago, theirs, and False. One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (no
        SAVEPOINT and RELEASE around a plain INSERT: two round trips at every first
        contact)."""
        created = await self.session.scalars(_new_person(is_postgresql(self.session)), values)
        user = created.first()
        if user is not None:
            return user, True
        found = await self.find(values["platform"], values["platform_user_id"])
        if found is None:  # it was deleted again in between: let the message retry
            raise LookupError("a new person's row was there and is gone")
        return found, False

    async def mark_inactive(self, user_id: int, now: datetime) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(active=False, blocked_at=now)
        )


def new_person(
    platform: str,
    platform_user_id: str,
    now: datetime,
    *,
    language: str,
    display_name: str | None,
    private_chat_id: str | None,
    admin: bool,
) -> dict[str, Any]:
    """The row of someone new, as their first message makes it (BOT_ADMINS: a
    verbinder from the start); the columns not named take their defaults."""
    return {
        "platform": platform,
        "platform_user_id": platform_user_id,
        "display_name": display_name,
        "language": language,
        "private_chat_id": private_chat_id,
        "roles": "verbinder" if admin else "",
        "messages_enabled": True,
        "active": True,
        "created_at": now,
        "last_seen_at": now,
    }


def contact_changes(
    user: User, *, display_name: str | None, private_chat_id: str | None, admin: bool
) -> bool:
    """Whether a message of a known person changes their row beyond the last seen
    time: what :func:`_note_contact` and :func:`_sync_admin` would write (the express
    path leaves such a message to the unit of work)."""
    return bool(
        (display_name and user.display_name != display_name)
        or (private_chat_id and user.private_chat_id != private_chat_id)
        or not user.active
        or (admin and "verbinder" not in user.role_set)
    )


def _note_contact(
    user: User, now: datetime, display_name: str | None, private_chat_id: str | None
) -> None:
    """A known person wrote: last seen (coarsely), their current name and private chat,
    and reachable again."""
    if now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
        user.last_seen_at = now
    if display_name and user.display_name != display_name:
        user.display_name = display_name
    if private_chat_id and user.private_chat_id != private_chat_id:
        user.private_chat_id = private_chat_id
    if not user.active:  # they wrote to us, so the platform lets us reach them again
        user.active = True
        user.blocked_at = None


def _sync_admin(user: User, admin: bool) -> None:
    """BOT_ADMINS are always verbinders: the role is added on every message, and the
    chat cannot take it away (/rollen refuses). A verbinder granted in the chat (an
    invite, /rollen) keeps the role until a verbinder revokes it there; so does one
    taken out of BOT_ADMINS (docs/verbinders.md says so)."""
    if admin and "verbinder" not in user.role_set:
        user.roles = ",".join(sorted(user.role_set | {"verbinder"}))
