"""Children: registration and lookup by any identifier."""

from gateway.children.service import find_child, read_child, read_child_timeline, register_child

__all__ = ["find_child", "read_child", "read_child_timeline", "register_child"]
