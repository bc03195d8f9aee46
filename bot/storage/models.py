"""Database tables. Times are stored in UTC; health data only encrypted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite has no 64-bit autoincrement type of its own; INTEGER is its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite stores no zone, so values come back naive; this puts UTC back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person on one platform."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    private_chat_id: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    roles: Mapped[str] = mapped_column(String(128), default="")  # comma-separated
    gemeente: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(128))
    # Announcement topics the person does not want (comma-separated): by default
    # everyone hears every topic; one tap under an announcement turns its topic off.
    topics_off: Mapped[str] = mapped_column(String(256), default="", server_default="")
    # No agenda reminders at all (/agenda stil); one event's: AgendaRsvp.muted.
    agenda_muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    profile_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_version: Mapped[str | None] = mapped_column(String(16))
    messages_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false: platform says blocked
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every message handled for the person on PostgreSQL (their turn, see
    # bot.storage.express): a message answered on the express path checks that it is
    # still what it read.
    turn: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    @property
    def topics_off_set(self) -> frozenset[str]:
        return frozenset(t for t in self.topics_off.split(",") if t)


class ConversationState(Base):
    """Where a person is in a multi-step conversation, per chat.

    ``data`` is encrypted: a check-in half-way holds health data.
    """

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("user_id", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Who did what that matters (consent, deletion, broadcasts, role changes).

    Never message content or health data.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class ProcessedEvent(Base):
    """Platform update ids already handled, so a redelivery is not handled twice."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


OPEN_STATUSES = "status IN ('pending', 'sending')"
REPLY_WAITING = "kind = 'reply' AND status = 'pending'"


class OutboxMessage(Base):
    """One outgoing message to one recipient.

    ``key`` is unique: enqueueing the same (message, recipient) twice is a no-op.
    Status: pending → sending → sent | failed | cancelled.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        # Each chat's unsent rows: a row goes out only after the earlier ones.
        Index(
            "ix_outbox_chat_open",
            "platform",
            "chat_id",
            "id",
            postgresql_where=text(OPEN_STATUSES),
            sqlite_where=text(OPEN_STATUSES),
        ),
        # Replies queued behind earlier rows of their chat: their chats are claimed first
        # (Outbox._answering). kind and status lead, although fixed by the WHERE: SQLite
        # without statistics picks an index by its equalities, and took ix_outbox_due.
        Index(
            "ix_outbox_reply_waiting",
            "kind",
            "status",
            "platform",
            "chat_id",
            postgresql_where=text(REPLY_WAITING),
            sqlite_where=text(REPLY_WAITING),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted JSON of the Reply
    kind: Mapped[str] = mapped_column(String(32), default="message")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36), index=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The announcement this row delivers (None for other messages), for its counts.
    announcement_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcements.id", ondelete="SET NULL"), index=True
    )


class BotMeta(Base):
    """Facts about the database itself, such as the data key check value."""

    __tablename__ = "bot_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class UnansweredQuestion(Base):
    """A question the content could not answer: the text only, never who asked."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), index=True)
    language: Mapped[str] = mapped_column(String(8))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Checkin(Base):
    """One spinnenweb check-in. Scores, marked aspects and the reflection are health
    data: they live only in ``payload``, encrypted. The time and mode are not."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_user_taken", "user_id", "taken_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    mode: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invite(Base):
    """An invitation to a role, made by a verbinder. Only the token's SHA-256 is kept:
    the token itself is shown once, in the link and the code."""

    __tablename__ = "invites"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str | None] = mapped_column(String(128))
    gemeente: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InviteUse(Base):
    """Who redeemed an invite, once per person."""

    __tablename__ = "invite_uses"
    __table_args__ = (UniqueConstraint("invite_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("invites.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupLink(Base):
    """A group chat a verbinder linked to the bot (``/koppel``): an audience."""

    __tablename__ = "group_links"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(128))
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Announcement(Base):
    """A verbinder's announcement (not health data: its text is kept for /berichten).

    Status: scheduled → queuing (recipients being written to the outbox, under a
    lease) → sending → done | cancelled. ``audience`` is the audience expression
    (``role:gangmaker,gemeente:leiden``); ``left_out`` a JSON object of counts.
    """

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_due", "status", "send_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audience: Mapped[str] = mapped_column(String(512))
    topic: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )  # before ``text``, which names a column here
    text: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(Text)  # JSON: kind, path or url, label
    status: Mapped[str] = mapped_column(String(16))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    left_out: Mapped[str | None] = mapped_column(Text)
    # Where the verbinder follows it: the progress message, edited in place.
    report_platform: Mapped[str | None] = mapped_column(String(16))
    report_chat_id: Mapped[str | None] = mapped_column(String(64))
    report_message_id: Mapped[str | None] = mapped_column(String(64))


class AgendaEvent(Base):
    """An event in the agenda (a leeratelier, a gangmaker meeting, ...).

    Its times are wall time in ``zone`` (naive ``start_local``/``end_local`` plus an
    IANA zone name): the instant is computed from them when needed, so an event at
    19:30 stays at 19:30 whatever the zone's rules turn out to be. ``uid`` is the
    iCalendar UID, stable for the event's life; ``sequence`` is raised on every change
    a calendar must see (times, place, cancelling). ``hosts`` are organisation ids
    from content/organisations.yaml, comma-separated; ``audience`` an audience
    expression (:mod:`bot.broadcast.audience`), ``all`` for public.
    """

    __tablename__ = "agenda_events"
    __table_args__ = (
        UniqueConstraint("uid"),
        Index("ix_agenda_events_start", "start_local"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    zone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(255))
    online_url: Mapped[str | None] = mapped_column(String(512))
    hosts: Mapped[str] = mapped_column(String(512), default="", server_default="")
    audience: Mapped[str] = mapped_column(String(512), default="all", server_default="all")
    capacity: Mapped[int | None] = mapped_column(Integer)
    rsvp_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="planned", server_default="planned")
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the reminder engine (bot.agenda.reminders) last acted on: the sequence it
    # planned reminders for, and the title, times and place it last told people (JSON),
    # so that a change is told once and says what changed. None: not yet seen.
    told_sequence: Mapped[int | None] = mapped_column(Integer)
    told: Mapped[str | None] = mapped_column(Text)

    @property
    def host_list(self) -> list[str]:
        return [h for h in self.hosts.split(",") if h]


class AgendaRsvp(Base):
    """One person's answer to one event (personal data): yes, maybe or no.

    ``waitlist_position`` is set (1, 2, ...) while a yes waits for a seat of a full
    event; None when the person has a seat or did not say yes."""

    __tablename__ = "agenda_rsvps"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agenda_events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AgendaReminder(Base):
    """One message the agenda sends about an event to many people at one instant: an
    invitation, a reminder, a change or a cancellation (``kind``). ``name`` is unique
    per event (``invite``, ``7d``, ``2h``, ``changed-3``, ``cancelled``). Status:
    pending → sent | skipped (past the grace period, or the event began) | dropped (the
    event was cancelled, or its rule is gone). ``detail`` holds what a change changed."""

    __tablename__ = "agenda_reminders"
    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        Index("ix_agenda_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agenda_events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AgendaPromptAnswer(Base):
    """A person's answer to a meeting prompt (personal data): ``inbreng`` (what they
    bring in before a gangmaker meeting) or ``meenemen`` (what they take home after an
    event). ``payload`` is the encrypted JSON ``{"text": ...}``; ``share``: the person
    agreed that the group sees it (otherwise only the verbinders)."""

    __tablename__ = "agenda_prompt_answers"
    __table_args__ = (Index("ix_agenda_prompt_answers_event_id", "event_id", "prompt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agenda_events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    share: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaChecklistItem(Base):
    """One point of the hosts' checklist before a meeting (room, agenda, invitation
    text), done or not."""

    __tablename__ = "agenda_checklist"
    __table_args__ = (UniqueConstraint("event_id", "item"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agenda_events.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(32))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgendaPoll(Base):
    """A vote on themes for a meeting; ``payload`` is the encrypted JSON list of the
    options (themes brought in, as the verbinder chose them)."""

    __tablename__ = "agenda_polls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_events.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgendaVote(Base):
    """One person's vote in a poll (personal data); changeable, one per person."""

    __tablename__ = "agenda_votes"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("agenda_polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    option: Mapped[int] = mapped_column(Integer)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaHostOffer(Base):
    """An organisation asked to host a meeting: ``asked``, ``accepted`` or ``declined``
    (a decline proposes the next organisation in line)."""

    __tablename__ = "agenda_host_offers"
    __table_args__ = (UniqueConstraint("event_id", "organisation"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agenda_events.id", ondelete="CASCADE"))
    organisation: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CircleMember(Base):
    """One organisation in one reflectiecirkel of one year (``circle`` 1, 2, ...)."""

    __tablename__ = "circles"
    __table_args__ = (UniqueConstraint("year", "organisation"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    circle: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaFeedToken(Base):
    """A person's calendar feed token (personal data). Only its SHA-256 is kept."""

    __tablename__ = "agenda_feed_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
