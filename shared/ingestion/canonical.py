"""Canonical URLs: one key for every form of one article's address.

The canonical form is a *key* for de-duplication, not necessarily the address to fetch: scheme becomes
https, host is lower-cased without `www.`/`amp.`, default ports, fragments and tracking parameters go,
AMP variants map to the plain page, remaining query parameters are sorted, and a trailing slash is dropped.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["canonical_url", "extract_canonical_link"]

_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "__hs", "_hs", "ga_", "oly_", "vero_", "mc_")
_TRACKING = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "mkt_tok", "_ga", "_gl",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "ito", "ns_mchannel",
        "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "xtor", "wt.mc_id", "smid", "sr_share",
        "campaign", "s_cid", "amp", "outputtype", "spm", "ncid",
        "rpc", "soc_src", "soc_trk", "taid", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)  # fmt: skip
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_PATH_SUFFIX = re.compile(r"(/amp/?|\.amp|/amp\.html)$", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical key of a URL (see module docstring); non-http(s) input comes back stripped."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    path = parts.path or "/"
    # Google AMP cache: https://example-com.cdn.ampproject.org/c/s/example.com/path → https://example.com/path
    if _AMP_CACHE.match(host):
        m = re.match(r"^/[a-z](?:/s)?/([^/]+)(/.*)?$", path)
        if m:
            host, path = m.group(1).lower(), m.group(2) or "/"
    for prefix in ("www.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS["http"], _DEFAULT_PORTS["https"]) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    # Normalise percent-encoding (decode unreserved, re-encode the rest consistently).
    path = quote(unquote(path), safe=_SAFE)
    path = re.sub(r"/{2,}", "/", path)
    path = _AMP_PATH_SUFFIX.sub("", path) or "/"
    if path.lower().startswith("/amp/"):
        path = path[4:]
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/") or "/"
    for index in ("/index.html", "/index.htm", "/index.php"):
        if path.endswith(index):
            path = path[: -len(index) + 1]
            if path != "/":
                path = path.rstrip("/")
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit(("https", netloc, path, query, ""))


_LINK_TAG = re.compile(r"<(link|meta)\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def extract_canonical_link(page_html: str, base_url: str) -> str | None:
    """The page's `<link rel=canonical>` (or `og:url`) made absolute; None when absent or not http(s)."""
    og: str | None = None
    for m in _LINK_TAG.finditer(page_html[:500_000]):
        attrs = {k.lower(): (a or b or c) for k, a, b, c in _ATTR.findall(m.group(0))}
        if m.group(1).lower() == "link" and "canonical" in attrs.get("rel", "").lower().split():
            href = attrs.get("href", "").strip()
            if href:
                absolute = urljoin(base_url, html.unescape(href))
                if urlsplit(absolute).scheme in ("http", "https"):
                    return absolute
        elif attrs.get("property", "").lower() == "og:url" and og is None:
            content = attrs.get("content", "").strip()
            if content:
                og = urljoin(base_url, html.unescape(content))
    if og and urlsplit(og).scheme in ("http", "https"):
        return og
    return None
