"""Guest-agent mode (-N, --agent): the pieces cli puts around a connection.

The connection speaks the agent's protocol (:mod:`qmpshell.wire.agent`):
it resynchronises on connect and after a lost reply.  The schema is the
bundled guest-agent table (:mod:`qmpshell.schema.agent`), narrowed to what
the agent's own ``guest-info`` says it has enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qmpshell.schema.model import Schema
    from qmpshell.settings import Settings
    from qmpshell.wire.connection import QmpConnection


def agent_table_schema() -> Schema:
    """Every command of the bundled guest-agent table (dry runs, and until the
    agent has said what it has)."""
    from qmpshell.schema.agent import load_agent_table

    return load_agent_table().schema


def agent_connection(conn: QmpConnection, settings: Settings) -> QmpConnection:
    """``conn`` (a driver speaking :class:`~qmpshell.wire.agent.AgentProtocol`)
    resynchronised now, and again after any reply lost to a timeout.  A
    libvirt domain's agent (``--domain NAME --agent``) is used as it is:
    libvirt synchronises with the agent itself before every command."""
    from qmpshell.wire.agent import AgentConnection

    if getattr(conn, "agent", False) is True:
        return conn

    agent = AgentConnection(conn, sync_timeout=settings.timeout)
    agent.sync()
    return agent


def agent_schema(conn: QmpConnection) -> Schema:
    """The table narrowed to what this agent's ``guest-info`` enables; the
    whole table if the agent does not say."""
    from qmpshell.schema.agent import load_agent_table, narrow

    schema = load_agent_table().schema
    reply = conn.execute({"execute": "guest-info"}).message
    info = reply.get("return")
    return narrow(schema, info) if isinstance(info, dict) else schema
