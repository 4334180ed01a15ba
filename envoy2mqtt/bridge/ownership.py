"""Which bridge instance serves which Envoy: retained ``<base>/<sn>/owner`` claims.

Only used when the bridge has an ``instance`` name (docs/fleet.md states these rules):

* **Live.** An instance is live while its retained ``<base>/bridge/<name>/state`` is
  ``online``; its Last Will turns it ``offline``. A claim of an instance that is not live
  means nothing.
* **Claim.** Before serving an Envoy an instance waits until it has seen every retained
  claim and instance state (it publishes a marker on ``<base>/bridge/<name>/sync`` after
  subscribing; the broker delivers retained messages before it), then serves the Envoy only
  if no live instance other than itself claims it: it publishes its name, retained, on
  ``<base>/<sn>/owner`` and waits for that message to come back before polling.
* **Tie.** Two live instances can still claim the same Envoy (both started at once, or a
  network split healed). Whenever an instance sees a live claim other than its own for an
  Envoy it serves, the lexically smaller instance name keeps the Envoy: the smaller one
  publishes its claim again, the larger one stops polling it at once (ERROR in its log).
  The outcome does not depend on the order in which the claims reached the broker.
* **Waiting.** An instance that found a live owner logs an ERROR naming both instances,
  does not contact the Envoy, and checks again whenever a claim or an instance state
  changes and at least every ``retry`` seconds: when the owner's state turns ``offline``
  (it died: its Last Will) the Envoy is taken over ``takeover_delay`` seconds later unless
  the owner came back; when its claim is cleared (clean exit), at once.
* **Clean exit** clears the instance's claims (empty retained payload). Claims holding the
  instance's own name for Envoys it no longer serves are cleared at every (re)connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

import aiomqtt

from envoy2mqtt.catalog.topics import sanitize_level
from envoy2mqtt.mqtt.session import MqttSession

__all__ = ["Ownership"]

_LOGGER = logging.getLogger(__name__)

GainedHook = Callable[[str, str | None], Awaitable[None]]
LostHook = Callable[[str, str], Awaitable[None]]


def _text(message: aiomqtt.Message) -> str:
    payload: object = message.payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload).decode("utf-8", "replace").strip()
    return "" if payload is None else str(payload).strip()


class Ownership:
    """Claims, watches and gives up Envoys for one named instance.

    Args:
        session: the bridge's MQTT session (its topics carry the instance name).
        expected: serial levels this instance is configured to serve (its own stale
            claims for anything else are cleared).
        on_gained: ``on_gained(serial, previous)`` once a claim is confirmed (subscribe the
            Envoy's commands); ``previous`` is the claim found before (None, this or a
            dead instance).
        on_lost: ``on_lost(serial, owner)`` when another instance won a tie (stop
            polling, drop the command subscriptions).
        on_change: called after each gain, loss or newly found other owner (refresh
            ``bridge/info``).
        retry: seconds between re-checks while another live instance owns an Envoy.
        takeover_delay: seconds an owner seen going offline gets to come back before its
            Envoys are taken over.
        echo_timeout: seconds to wait for an own claim to come back from the broker.
    """

    def __init__(
        self,
        session: MqttSession,
        *,
        expected: Callable[[], set[str]],
        on_gained: GainedHook,
        on_lost: LostHook,
        on_change: Callable[[], Awaitable[None]] | None = None,
        retry: float = 60.0,
        takeover_delay: float = 10.0,
        echo_timeout: float = 10.0,
    ) -> None:
        topics = session.topics
        assert topics.instance is not None, "ownership needs an instance name"
        self.instance: str = topics.instance
        self._session = session
        self._topics = topics
        self._expected = expected
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._on_change = on_change
        self._retry = retry
        self._takeover_delay = takeover_delay
        self._offline_since: dict[str, float] = {}
        self._echo_timeout = echo_timeout
        self.owners: dict[str, str] = {}
        self.live: dict[str, bool] = {}
        self.mine: set[str] = set()
        self._echo: dict[str, asyncio.Event] = {}
        self._synced = asyncio.Event()
        self._changed = asyncio.Event()
        self._token = ""

    async def install(self) -> None:
        """Subscribe to every claim and instance state; call before the session runs."""
        for topic_filter in (
            self._topics.owners_filter,
            self._topics.instance_states_filter,
            self._topics.bridge_sync,
        ):
            await self._session.subscribe(topic_filter, qos=1)
        self._session.add_message_handler(self._on_message)
        self._session.add_on_connect(self._on_connect)

    def owns(self, serial: str) -> bool:
        """Whether this instance serves ``serial`` right now."""
        return sanitize_level(serial) in self.mine

    def live_owner(self, serial: str) -> str | None:
        """The live instance claiming ``serial`` (this one included), or ``None``."""
        owner = self.owners.get(sanitize_level(serial))
        if owner is None or (owner != self.instance and not self.live.get(owner, False)):
            return None
        return owner

    async def acquire(self, serial: str) -> bool:
        """Wait until this instance owns ``serial``; True when it had to wait for that."""
        level = sanitize_level(serial)
        waited = False
        reported: str | None = None
        while True:
            await self._synced.wait()
            # Taken before looking: a change while this pass awaits must still wake it.
            changed = self._changed
            if level in self.mine:
                return waited
            owner = self.live_owner(level)
            pause = self._takeover_pause(level) if owner is None else 0.0
            if pause > 0:
                if reported != "":
                    reported = ""
                    _LOGGER.info(
                        "envoy owner went offline serial=%s owner=%s taking over in %.1fs",
                        level,
                        self.owners.get(level),
                        pause,
                    )
            elif owner is None or owner == self.instance:
                if await self._take(level):
                    return waited
            elif owner != reported:
                reported = owner
                await self._report_owner(level, owner)
            waited = True
            await self._wait(changed, pause or self._retry)

    def _takeover_pause(self, level: str) -> float:
        """Seconds still to wait before taking ``level`` from an owner seen going offline.

        An owner seen going offline just now may be reconnecting (a broker restart, or a
        client-id takeover makes mosquitto send the Last Will): it gets ``takeover_delay``
        to come back. An owner already offline when this instance connected is dead.
        """
        claim = self.owners.get(level)
        since = None if claim in (None, self.instance) else self._offline_since.get(str(claim))
        if since is None:
            return 0.0
        return max(0.0, since + self._takeover_delay - asyncio.get_running_loop().time())

    async def _take(self, level: str) -> bool:
        previous = self.owners.get(level)
        self.mine.add(level)
        await self._claim(level)
        if not await self._confirmed(level):
            return False
        _LOGGER.info(
            "envoy ownership taken serial=%s instance=%s previous=%s",
            level,
            self.instance,
            previous or "-",
        )
        await self._on_gained(level, previous)
        await self._changed_hook()
        return True

    async def _report_owner(self, level: str, owner: str) -> None:
        _LOGGER.error(
            "envoy served by another instance serial=%s owner=%s instance=%s "
            "action=not polling, retrying when %s goes offline or every %gs",
            level,
            owner,
            self.instance,
            owner,
            self._retry,
        )
        await self._changed_hook()

    async def release(self, serial: str) -> None:
        """Stop serving ``serial`` voluntarily and clear its claim."""
        level = sanitize_level(serial)
        if level not in self.mine:
            return
        self.mine.discard(level)
        await self._clear(level)

    async def release_all(self) -> None:
        """Clear every claim of this instance (clean exit)."""
        for level in sorted(self.mine):
            await self._clear(level)
        self.mine.clear()

    async def run(self) -> None:
        """Resolve conflicts for the Envoys served whenever the view changes (a task)."""
        while True:
            await self._synced.wait()
            changed = self._changed
            await self._reconcile()
            await self._wait(changed)

    # -- internals ------------------------------------------------------------------------

    async def _on_connect(self) -> None:
        # What was seen on a previous connection may be outdated: start over, and know that
        # every retained claim has arrived when the marker comes back.
        self._synced.clear()
        self.owners.clear()
        self.live.clear()
        self._offline_since.clear()
        self._token = uuid.uuid4().hex
        await self._session.publish(self._topics.bridge_sync, self._token, qos=1)

    async def _on_message(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        if topic == self._topics.bridge_sync:
            if _text(message) == self._token:
                self._synced.set()
                self._notify()
            return
        level = self._topics.parse_owner(topic)
        if level is not None:
            owner = _text(message)
            if owner:
                self.owners[level] = owner
            else:
                self.owners.pop(level, None)
            if owner == self.instance and level in self._echo:
                self._echo[level].set()
            self._notify()
            return
        instance = self._topics.parse_instance_state(topic)
        if instance is not None:
            online = _text(message) == "online"
            if online:
                self._offline_since.pop(instance, None)
            elif self.live.get(instance, False):
                self._offline_since[instance] = asyncio.get_running_loop().time()
            self.live[instance] = online
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, changed: asyncio.Event, limit: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), limit or self._retry)

    async def _claim(self, level: str) -> None:
        self._echo.setdefault(level, asyncio.Event()).clear()
        self.owners[level] = self.instance
        await self._session.publish(self._topics.owner(level), self.instance, qos=1, retain=True)

    async def _confirmed(self, level: str) -> bool:
        # Claims published before ours have reached us once ours comes back; a tie with a
        # claim published after ours is resolved by _reconcile (smaller name wins).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._echo[level].wait(), self._echo_timeout)
        return level in self.mine

    async def _clear(self, level: str) -> None:
        if self.owners.get(level) == self.instance:
            self.owners.pop(level, None)
        await self._session.publish(self._topics.owner(level), b"", qos=1, retain=True)

    async def _reconcile(self) -> None:
        for level in sorted(self.mine):
            owner = self.owners.get(level)
            if owner == self.instance:
                continue
            if owner is not None and self.live.get(owner, False) and owner < self.instance:
                await self._give_up(level, owner)
            else:
                # Claim missing (lost by the broker), dead, or a larger live name: ours.
                await self._claim(level)
        expected = self._expected()
        for level, owner in sorted(self.owners.items()):
            if owner == self.instance and level not in self.mine and level not in expected:
                _LOGGER.info("envoy ownership cleared serial=%s reason=not served", level)
                await self._clear(level)

    async def _give_up(self, level: str, owner: str) -> None:
        self.mine.discard(level)
        _LOGGER.error(
            "envoy ownership conflict serial=%s owner=%s instance=%s "
            "action=not polling, the smaller instance name keeps it",
            level,
            owner,
            self.instance,
        )
        await self._on_lost(level, owner)
        await self._changed_hook()

    async def _changed_hook(self) -> None:
        if self._on_change is not None:
            await self._on_change()
