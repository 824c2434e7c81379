"""The whitelist app's permission names, written once."""

ADD_ENTRY = "whitelist.add_whitelistentry"
CHANGE_ENTRY = "whitelist.change_whitelistentry"
