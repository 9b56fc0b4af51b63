"""What tether's protocol carries, read from the same vk.xml and generator
model the build uses, so the vulkaninfo comparison can tell an extension that
tether must offer from one it cannot (and say why)."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "protocol", "gen"))

from registry import Registry  # noqa: E402
import exceptions as gen_exceptions  # noqa: E402

# The registry the build generated from (TETHER_VK_XML to test elsewhere).
VK_XML = os.environ.get("TETHER_VK_XML", "/usr/share/vulkan/registry/vk.xml")


class Carried:
    def __init__(self, vk_xml=VK_XML):
        self.reg = Registry(vk_xml)
        self.extensions = set(e["name"] for e in self.reg.carried_extensions)
        self.known = set(e["name"] for e in self.reg.extensions)
        # struct name -> extension that brings it (for vulkaninfo's sections)
        self.struct_ext = {}
        for e in self.reg.extensions:
            for t in e["types"]:
                self.struct_ext.setdefault(t, e["name"])

    def why_not(self, name):
        """Why tether does not offer an extension, or None if it should."""
        if name in self.extensions:
            return None
        if name not in self.known:
            return "newer than this build's vk.xml: the protocol cannot encode it"
        if name in gen_exceptions.DENIED_EXTENSIONS:
            return "denied in protocol/gen/exceptions.py (window system, debug or no-link extension)"
        for pattern in gen_exceptions.DENIED_EXTENSION_PATTERNS:
            if re.search(pattern, name):
                return "denied in protocol/gen/exceptions.py (%s)" % pattern
        ext = next(e for e in self.reg.extensions if e["name"] == name)
        if ext["platform"] or ext["provisional"]:
            return "platform or provisional extension"
        return "its structs or commands cannot cross a link (host pointers, fds, callbacks)"
