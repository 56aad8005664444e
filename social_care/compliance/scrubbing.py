"""Blanking what a stranger wrote while keeping what the desk did about it.

A post that its author deleted or hid, that the platform took down, that a
person asked us to forget or that outlived its retention loses its words: the
text, the address (it names the author), the raw payload, the matched
fragments, the verdict's reasons that quote it, and the copies of its words in
mails and digests (:mod:`.copies`). Its row stays, with its
times, its case and its place in the figures, so reports and rollups do not
change. An author's profile (handle, name, followers) is blanked the same way,
and the row stays for the cases that point to it.

Everything here is a few set-wise statements per batch of ids, never a loop of
ORM objects: a purge may scrub thousands of posts.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, exists, insert, select, update
from sqlmodel import Session, col

from social_care.compliance import copies
from social_care.storage.tables import Author, CaseEvent, Classification, Mention, TermMatch

DELETED, PROTECTED, REMOVED = "deleted", "protected", "removed"  # what a platform said
ERASED, EXPIRED = "erased", "expired"  # a person's request, the retention policy
POST_REMOVED = "post_removed"  # the case event that says so on the timeline

# The post's place on the case page once its words are gone, by why.
IN_PLACE_OF_THE_TEXT = {
    DELETED: "Post removed by its author",
    PROTECTED: "Post hidden: its author made their account private",
    REMOVED: "Post removed by the platform",
    ERASED: "Post erased at its author's request",
    EXPIRED: "Post text no longer kept (retention policy)",
}


def scrub_posts(
    session: Session,
    mention_ids: Collection[int],
    *,
    why: str,
    at: datetime,
    actor: str,
    on_the_timeline: bool = True,
) -> list[int]:
    """Blank the words of the posts among ``mention_ids`` still kept whole; the ids blanked.

    With ``on_the_timeline`` each post's case gets a ``post_removed`` event saying why,
    at ``at``. The event moves no clock and no figure (the rollups do not count it), and
    the case's last activity is left alone: nothing happened that a person must look at.
    """
    if not mention_ids:
        return []
    rows = session.execute(
        select(col(Mention.id), col(Mention.case_id), col(Mention.text), col(Mention.posted_at)).where(
            col(Mention.id).in_(list(mention_ids)), col(Mention.removed) == ""
        )
    ).all()
    ids = [row[0] for row in rows]
    if not ids:
        return []
    session.execute(
        update(Mention)
        .where(col(Mention.id).in_(ids))
        .values(text="", url="", raw={}, removed=why, deleted_at=at, raw_dropped_at=at)
    )
    session.execute(update(TermMatch).where(col(TermMatch.mention_id).in_(ids)).values(matched_text=""))
    session.execute(update(Classification).where(col(Classification.mention_id).in_(ids)).values(reasons=[]))
    if on_the_timeline:
        events = [
            {
                "case_id": case_id,
                "kind": POST_REMOVED,
                "actor": actor,
                "at": at,
                "detail": {"mention_id": mention_id, "why": why},
            }
            for mention_id, case_id, _, _ in rows
            if case_id is not None
        ]
        if events:
            session.execute(insert(CaseEvent), events)
    times = [posted_at for _, _, _, posted_at in rows]
    copies.scrub_copies(
        session,
        copies.words_of(text for _, _, text, _ in rows),
        f"[{IN_PLACE_OF_THE_TEXT[why]}]",
        first=min(times),
        last=max(times),
        # Mails are kept for fewer days than posts' texts: an expired post's have gone already.
        mails=why != EXPIRED,
    )
    return ids


def scrub_profiles(session: Session, author_ids: Collection[int], *, at: datetime) -> int:
    """Blank the handle, name and follower count of these authors (those not blanked yet)."""
    if not author_ids:
        return 0
    result = session.execute(
        update(Author)
        .where(col(Author.id).in_(list(author_ids)), col(Author.erased_at).is_(None))
        .values(handle="", name="", followers=None, erased_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def without_kept_posts(session: Session, author_ids: Collection[int]) -> list[int]:
    """The authors among ``author_ids`` of whom no post is kept whole any more."""
    if not author_ids:
        return []
    kept = exists().where(and_(col(Mention.author_id) == col(Author.id), col(Mention.removed) == ""))
    return list(
        session.execute(select(col(Author.id)).where(col(Author.id).in_(list(author_ids)), ~kept)).scalars()
    )


def authors_of(session: Session, mention_ids: Sequence[int]) -> list[int]:
    if not mention_ids:
        return []
    return list(
        session.execute(
            select(col(Mention.author_id)).where(col(Mention.id).in_(list(mention_ids))).distinct()
        ).scalars()
    )
