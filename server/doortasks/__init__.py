"""Door-to-door notice tasks handed to crews and synced to their tablets.

When no message channel reaches a customer, the outbox opens a door-notice task
(``notifications``). A dispatcher assigns an outage's open door tasks to a crew; each
assignment is a change in the crew's sync scope, so the tasks travel to the tablets like
an order's steps, with the outage's times and the posting notice's address.
"""

from server.doortasks.model import DOOR_TASK, DoorTask, DoorTasksAssigned, DoorTasksAssignIn
from server.doortasks.service import DoorTaskReader, DoorTaskService

__all__ = ["DOOR_TASK", "DoorTask", "DoorTaskReader", "DoorTaskService", "DoorTasksAssignIn",
           "DoorTasksAssigned"]
