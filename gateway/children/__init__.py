"""Children: registering, finding, reading and updating their records."""

from gateway.children.service import (
    find_child,
    read_child,
    read_child_timeline,
    register_child,
    update_child,
)

__all__ = ["find_child", "read_child", "read_child_timeline", "register_child", "update_child"]
