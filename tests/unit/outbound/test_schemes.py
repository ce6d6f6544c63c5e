"""The vetted channel schemes against the installed Apprise: every plugin parameter is classified."""

import pytest
from pydantic import ValidationError

from shared.alerts.channels import AppriseChannel
from shared.alerts.channels.apprise_channel import known_schemes, load_apprise
from shared.config import Settings
from shared.outbound.policy import AddressPolicy, BadSchemeError, BlockedAddressError, UnsafeURLError
from shared.outbound.schemes import APPRISE_RULES, REFUSED_EVERYWHERE, WEBHOOK_SCHEMES

PUBLIC = AddressPolicy(resolver=lambda host, port: ["93.184.216.34"])
LOOPBACK = AddressPolicy(resolver=lambda host, port: ["127.0.0.1"])


def test_every_vetted_scheme_is_an_apprise_plugin_and_its_parameters_are_classified() -> None:
    # An Apprise upgrade that adds a parameter to a vetted plugin fails here until someone reads what it does.
    manager = load_apprise().plugins.N_MGR
    for scheme, rule in APPRISE_RULES.items():
        plugin = manager[scheme]
        declared = {k.lower() for k in plugin.template_args}
        unclassified = declared - rule.params - rule.refused - REFUSED_EVERYWHERE
        assert not unclassified, f"{scheme}:// parameters nobody vetted: {sorted(unclassified)}"
        assert rule.host_params <= rule.params
        prefixes = {v.get("prefix") for v in getattr(plugin, "template_kwargs", {}).values()}
        assert set(rule.prefixes) <= prefixes, scheme


def test_a_scheme_not_vetted_is_refused_whatever_its_url() -> None:
    channel = AppriseChannel(policy=PUBLIC, schemes=frozenset(known_schemes()))  # even if "enabled"
    unvetted = sorted(known_schemes() - set(APPRISE_RULES))
    assert {"rsyslog", "syslog", "matrix", "kodi", "apprise", "hassio", "signal", "emby", "ncloud"} <= set(
        unvetted
    )
    for scheme in unvetted:
        with pytest.raises(BadSchemeError):
            channel.check(f"{scheme}://user:pass@hooks.example.com/a/b")


def test_hosts_in_parameters_and_derived_from_the_url_are_checked() -> None:
    channel = AppriseChannel(
        policy=AddressPolicy(resolver=lambda h, p: ["127.0.0.1"] if "internal" in h else ["93.184.216.34"])
    )
    channel.check("mailto://u:p@example.com?smtp=smtp.example.com&to=a@example.com")
    for url in (
        "mailto://u:p@example.com?smtp=smtp.internal&to=a@example.com",  # a host parameter
        "mailto://u:p@mail.internal?to=a@example.com",  # the mail domain, the SMTP server by default
        "json://a@hook.internal@hooks.example.com/x",  # Apprise reads hook.internal as the host here
        "ntfy://ntfy.internal/topic",  # private mode: the host part is the server
        "[::ffff:127.0.0.1]",
    ):
        with pytest.raises(UnsafeURLError):
            channel.check(url)
    channel.check("ntfy://mytopic")  # cloud mode: the first part is a topic on ntfy.sh


def test_fixed_vendor_hosts_are_not_taken_from_the_url() -> None:
    channel = AppriseChannel(policy=LOOPBACK)  # every name would be refused if it were looked up
    channel.check("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F")
    with pytest.raises(BlockedAddressError):
        channel.check("gotify://hooks.example.com/token")


def test_the_enabled_list_is_a_setting_of_vetted_schemes_only() -> None:
    assert set(Settings().channel_schemes) == set(APPRISE_RULES) | set(WEBHOOK_SCHEMES)
    assert Settings(channel_schemes="https, SLACK").channel_schemes == ["https", "slack"]
    for bad in ("https,rsyslog", "matrix", "kodi"):
        with pytest.raises(ValidationError, match="not vetted"):
            Settings(channel_schemes=bad)
    only_slack = AppriseChannel(policy=PUBLIC, schemes=frozenset({"slack"}))
    with pytest.raises(BadSchemeError, match="NEWSWATCH_CHANNEL_SCHEMES"):
        only_slack.check("json://hooks.example.com/")
