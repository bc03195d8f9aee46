"""Repositories: the only code that writes SQL for people, conversations, check-ins,
the audit log, dedupe and unanswered questions; one module per aggregate.

All work on one :class:`AsyncSession`, so one incoming message is one
transaction: if its handler fails, nothing it did is kept and a redelivery of
the same platform update is handled again. :class:`Repos` is the set of them
that one unit of work (:mod:`bot.storage.unit_of_work`) hands out.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage.models import ConversationState
from bot.storage.repositories.agenda import AgendaRepo
from bot.storage.repositories.announcements import AnnouncementRepo
from bot.storage.repositories.audit import AuditRepo
from bot.storage.repositories.checkins import CheckinRepo
from bot.storage.repositories.circles import CircleRepo
from bot.storage.repositories.conversation import StateRepo
from bot.storage.repositories.events import EventRepo
from bot.storage.repositories.feeds import FeedTokenRepo
from bot.storage.repositories.gaps import GapRepo
from bot.storage.repositories.host_offers import HostOfferRepo
from bot.storage.repositories.people import PeopleRepo
from bot.storage.repositories.privacy import PersonalDataRepo
from bot.storage.repositories.prompts import PromptRepo
from bot.storage.repositories.users import UserRepo


class Repos:
    """The repositories of one unit of work."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        state_rows: dict[tuple[int, str], ConversationState | None] = {}
        turns: set[tuple[str, str]] = set()  # whose turn this unit of work holds (PostgreSQL)
        self.users = UserRepo(session, state_rows, turns)  # reads the state with the person
        self.state = StateRepo(session, cipher, state_rows)
        self.audit = AuditRepo(session)
        self.events = EventRepo(session, turns)
        self.gaps = GapRepo(session)
        self.checkins = CheckinRepo(session, cipher)
        self.personal = PersonalDataRepo(session, cipher)
        self.people = PeopleRepo(session)
        self.announcements = AnnouncementRepo(session)
        self.agenda = AgendaRepo(session)
        self.feeds = FeedTokenRepo(session)
        self.host_offers = HostOfferRepo(session)  # gangmakers' hosts asked, declined
        self.prompts = PromptRepo(session, cipher)
        self.circles = CircleRepo(session)  # the reflectiecirkels of each year
