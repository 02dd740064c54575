"""Tickets over HTTP: thin handlers over ``TicketService`` and the reminder scan."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import actor, services
from server.routes.paging import linked
from server.tickets.model import (
    ExtensionDecisionIn,
    ExtensionIn,
    LinkIn,
    NoteIn,
    OverdueItem,
    ReasonIn,
    Reminder,
    ReminderLevel,
    ScanResult,
    Ticket,
    TicketIn,
    TicketPage,
    TicketStatus,
)
from server.workorders.model import WorkOrderIn


class TicketController(Controller):
    path = "/tickets"
    tags = ("tickets",)

    @post("/", opt={"policy": "ticket.create",
                    "problems": ("bad-ticket-input", "unknown-category")},
          sync_to_thread=False)
    def create(self, request: Request[Any, Any, Any], data: JSONBody[TicketIn]) -> Ticket:
        """Open a ticket (a customer's request or report) from a channel."""
        return services(request).tickets.tickets.create(actor(request), data)

    @get("/", opt={"policy": "ticket.list"}, sync_to_thread=False)
    def list_tickets(self, request: Request[Any, Any, Any],
                     status: FromQuery[TicketStatus | None] = None,
                     unit: FromQuery[str | None] = None, overdue: FromQuery[bool] = False,
                     limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
                     cursor: FromQuery[str | None] = None) -> TicketPage:
        """Tickets, filtered by status, unit or overdue."""
        return linked(request, services(request).tickets.tickets.list(
            status=status, unit=unit, overdue=overdue, limit=limit, cursor=cursor,
            actor=actor(request)))

    @get("/{ticket_id:str}", opt={"policy": "ticket.read",
                                  "problems": ("ticket-not-found",)},
         sync_to_thread=False)
    def get_ticket(self, request: Request[Any, Any, Any], ticket_id: FromPath[str]) -> Ticket:
        """One ticket with its deadlines and history."""
        return services(request).tickets.tickets.read(actor(request), ticket_id)

    @post("/{ticket_id:str}/accept", opt={"policy": "ticket.accept",
                                          "problems": ("ticket-not-found", "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def accept(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
               data: JSONBody[NoteIn]) -> Ticket:
        """Accept a ticket: its handling deadline starts."""
        return services(request).tickets.tickets.accept(actor(request), ticket_id, data)

    @post("/{ticket_id:str}/reply", opt={"policy": "ticket.reply",
                                         "problems": ("reason-required", "ticket-not-found",
                                                      "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def reply(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
              data: JSONBody[NoteIn]) -> Ticket:
        """Record the reply given to the customer."""
        return services(request).tickets.tickets.reply(actor(request), ticket_id, data)

    @post("/{ticket_id:str}/resolve", opt={"policy": "ticket.resolve",
                                           "problems": ("reason-required", "ticket-not-found",
                                                        "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def resolve(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
                data: JSONBody[NoteIn]) -> Ticket:
        """Resolve a ticket."""
        return services(request).tickets.tickets.resolve(actor(request), ticket_id, data)

    @post("/{ticket_id:str}/send-back", opt={"policy": "ticket.send_back",
                                             "problems": ("reason-required", "ticket-not-found",
                                                          "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def send_back(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
                  data: JSONBody[ReasonIn]) -> Ticket:
        """Send a ticket back to the desk, with a reason."""
        return services(request).tickets.tickets.send_back(actor(request), ticket_id, data)

    @post("/{ticket_id:str}/extensions", opt={"policy": "ticket.extend",
                                              "problems": ("extension-refused", "reason-required",
                                                           "ticket-not-found", "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def request_extension(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
                          data: JSONBody[ExtensionIn]) -> Ticket:
        """Ask for a longer deadline, with a reason."""
        return services(request).tickets.tickets.request_extension(actor(request), ticket_id,
                                                                   data)

    @post("/{ticket_id:str}/extensions/{extension_id:str}/decision",
          opt={"policy": "ticket.decide_extension",
               "problems": ("extension-refused", "ticket-not-found",
                            "ticket-state")},
          sync_to_thread=False, status_code=200)
    def decide_extension(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
                         extension_id: FromPath[str],
                         data: JSONBody[ExtensionDecisionIn]) -> Ticket:
        """A supervisor grants or refuses a ticket's deadline extension."""
        return services(request).tickets.tickets.decide_extension(actor(request), ticket_id,
                                                                  extension_id, data)

    @post("/{ticket_id:str}/work-order-link",
          opt={"policy": "ticket.link", "problems": ("ticket-not-found", "ticket-state")},
          sync_to_thread=False,
          status_code=200)
    def link(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
             data: JSONBody[LinkIn]) -> Ticket:
        """Link an existing work order to a ticket."""
        return services(request).tickets.tickets.link_work_order(actor(request), ticket_id, data)

    @post("/{ticket_id:str}/work-order", opt={"policy": "ticket.link",
                                              "problems": ("bad-input", "rule-violation",
                                                           "ticket-not-found", "ticket-state")},
          sync_to_thread=False)
    def create_work_order(self, request: Request[Any, Any, Any], ticket_id: FromPath[str],
                          data: JSONBody[WorkOrderIn]) -> Ticket:
        """Create a work order for a ticket and link the two."""
        return services(request).tickets.tickets.create_work_order(actor(request), ticket_id,
                                                                   data)


class DeadlineController(Controller):
    """Reminders, escalations and the overdue list across tickets, complaints, work orders."""

    path = "/deadlines"
    tags = ("deadlines",)

    @post("/scan", opt={"policy": "deadline.scan"},
          sync_to_thread=False, status_code=200)
    def scan(self, request: Request[Any, Any, Any]) -> ScanResult:
        """Scan every deadline now (the worker does it on its interval) and raise reminders."""
        return services(request).tickets.reminders.scan()

    @get("/overdue", opt={"policy": "deadline.overdue"}, sync_to_thread=False)
    def overdue(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[OverdueItem]:
        """Tickets and work orders past their deadlines, earliest due first (one page)."""
        return linked(request, services(request).tickets.reminders.overdue_page(cursor, limit))

    @get("/reminders", opt={"policy": "deadline.reminders"}, sync_to_thread=False)
    def reminders(self, request: Request[Any, Any, Any],
                  level: FromQuery[ReminderLevel | None] = None,
                  limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
                  cursor: FromQuery[str | None] = None) -> Page[Reminder]:
        """Deadline reminders due now."""
        return linked(request, services(request).tickets.reminders.page(
            recipient_id=request.user.user_id, level=level, limit=limit, cursor=cursor))
