"""The people model's tables: invites and who used them, roles, linked group chats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditLog, GroupLink, Invite, InviteUse, User

LIST_LIMIT = 50  # people, invites or groups shown in one list
USED, TWICE, GONE = "used", "twice", "gone"  # what became of a use of an invite
# Audit rows of role changes name the person changed first: "user=<id> role=<role>".
ROLE_ACTIONS = ("role.granted", "role.revoked")
TARGET, FORGOTTEN = "user=", "user=forgotten "


class PeopleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- invites ----------------------------------------------------------------
    async def create_invite(
        self,
        *,
        token_hash: str,
        role: str,
        organisation: str | None,
        gemeente: str | None,
        created_by: int,
        now: datetime,
        expires_at: datetime,
        max_uses: int,
    ) -> Invite:
        invite = Invite(
            token_hash=token_hash,
            role=role,
            organisation=organisation,
            gemeente=gemeente,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            max_uses=max_uses,
            uses=0,
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def invite_by_hash(self, token_hash: str) -> Invite | None:
        result = await self.session.execute(select(Invite).where(Invite.token_hash == token_hash))
        return result.scalar_one_or_none()

    async def invite(self, invite_id: int) -> Invite | None:
        return await self.session.get(Invite, invite_id)

    async def open_invites(self, now: datetime) -> list[Invite]:
        """Invites that can still be used, newest first."""
        result = await self.session.execute(
            select(Invite)
            .where(
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
                Invite.uses < Invite.max_uses,
            )
            .order_by(Invite.id.desc())
            .limit(LIST_LIMIT)
        )
        return list(result.scalars())

    async def revoke_invite(self, invite_id: int, now: datetime) -> bool:
        """True when it was open until now."""
        result = await self.session.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def used_by(self, invite_id: int, user_id: int) -> bool:
        result = await self.session.execute(
            select(InviteUse.id).where(
                InviteUse.invite_id == invite_id, InviteUse.user_id == user_id
            )
        )
        return result.first() is not None

    async def use_invite(self, invite_id: int, user_id: int, now: datetime) -> str:
        """Count one use by this person: ``USED``; ``TWICE`` when they used it before,
        ``GONE`` when it allows no more (used up, revoked, expired). The use is a
        conditional update, so two people taking the last use at once cannot both
        get it; the unique (invite, person) row makes a second press use it once.
        Either refusal leaves nothing behind (a savepoint)."""
        try:
            async with self.session.begin_nested():
                self.session.add(InviteUse(invite_id=invite_id, user_id=user_id, at=now))
                await self.session.flush()
                result = await self.session.execute(
                    update(Invite)
                    .where(
                        Invite.id == invite_id,
                        Invite.revoked_at.is_(None),
                        Invite.expires_at > now,
                        Invite.uses < Invite.max_uses,
                    )
                    .values(uses=Invite.uses + 1)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(result, "rowcount", 0):
                    raise _Gone
        except IntegrityError:
            return TWICE
        except _Gone:
            return GONE
        return USED

    # -- roles ------------------------------------------------------------------
    async def with_roles(self) -> list[User]:
        """Everyone who holds a role besides inwoner, by name."""
        result = await self.session.execute(
            select(User)
            .where(User.roles != "")
            .order_by(func.lower(func.coalesce(User.display_name, "")), User.id)
            .limit(LIST_LIMIT)
        )
        return list(result.scalars())

    async def find_people(self, who: str) -> list[User]:
        """People by ``platform:id`` (exact), else by display name: the exact name
        (any case) first; else names that contain it."""
        platform, sep, platform_id = who.partition(":")
        if sep and platform_id and " " not in platform:
            result = await self.session.execute(
                select(User).where(User.platform == platform, User.platform_user_id == platform_id)
            )
            return list(result.scalars())
        name = func.lower(User.display_name)
        exact = await self.session.execute(
            select(User).where(name == who.lower()).order_by(User.id).limit(LIST_LIMIT)
        )
        found = list(exact.scalars())
        if found:
            return found
        pattern = "%" + who.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        result = await self.session.execute(
            select(User)
            .where(name.like(pattern + "%", escape="\\"))
            .order_by(User.id)
            .limit(LIST_LIMIT)
        )
        return list(result.scalars())

    # -- groups -----------------------------------------------------------------
    async def link_group(
        self, platform: str, chat_id: str, title: str | None, by: int, now: datetime
    ) -> tuple[GroupLink, bool]:
        """Link a group chat; False when it was linked already (its title is updated)."""
        found = await self._group(platform, chat_id)
        if found is not None:
            was_active = found.active
            found.active, found.title = True, title or found.title
            if not was_active:
                found.linked_by, found.linked_at = by, now
            return found, not was_active
        group = GroupLink(
            platform=platform,
            chat_id=chat_id,
            title=title,
            linked_by=by,
            linked_at=now,
            active=True,
        )
        self.session.add(group)
        await self.session.flush()
        return group, True

    async def unlink_group(self, platform: str, chat_id: str) -> GroupLink | None:
        """The group, now unlinked; None when it was not linked."""
        found = await self._group(platform, chat_id)
        if found is None or not found.active:
            return None
        found.active = False
        return found

    async def groups(self) -> list[GroupLink]:
        result = await self.session.execute(
            select(GroupLink)
            .where(GroupLink.active.is_(True))
            .order_by(GroupLink.linked_at, GroupLink.id)
            .limit(LIST_LIMIT)
        )
        return list(result.scalars())

    async def _group(self, platform: str, chat_id: str) -> GroupLink | None:
        result = await self.session.execute(
            select(GroupLink).where(GroupLink.platform == platform, GroupLink.chat_id == chat_id)
        )
        return result.scalar_one_or_none()

    # -- a person's own data ----------------------------------------------------
    async def export(self, user: User) -> dict[str, Any]:
        """The profile and the people model's rows about this person (/mijngegevens)."""
        uses = await self.session.execute(
            select(InviteUse.at, Invite.role)
            .join(Invite, Invite.id == InviteUse.invite_id)
            .where(InviteUse.user_id == user.id)
            .order_by(InviteUse.id)
        )
        made = await self.session.execute(
            select(func.count(Invite.id)).where(Invite.created_by == user.id)
        )
        linked = await self.session.execute(
            select(func.count(GroupLink.id)).where(
                GroupLink.linked_by == user.id, GroupLink.active.is_(True)
            )
        )
        offered = user.profile_offered_at
        return {
            "gemeente": user.gemeente,
            "organisation": user.organisation,
            "topics_off": sorted(user.topics_off_set),
            "agenda_reminders_muted": user.agenda_muted,
            "profile_offered_at": offered.isoformat() if offered else None,
            "invites_used": [{"at": at.isoformat(), "role": role} for at, role in uses],
            "invites_made": made.scalar_one(),
            "groups_linked": linked.scalar_one(),
        }

    async def forget(self, user_id: int) -> None:
        """Before the person is deleted (/vergeetmij): the verbinders' audit rows about
        them (``role.granted``, ``role.revoked``) keep what was done, not to whom."""
        about = f"{TARGET}{user_id} "
        rows = await self.session.execute(
            select(AuditLog).where(
                AuditLog.action.in_(ROLE_ACTIONS), AuditLog.detail.startswith(about)
            )
        )
        for row in rows.scalars():
            row.detail = FORGOTTEN + row.detail.removeprefix(about)


class _Gone(Exception):
    """The invite allows no more uses: undo the use row (the savepoint)."""
