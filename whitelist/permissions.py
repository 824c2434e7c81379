"""The whitelist app's permission names, written once."""

VIEW_ENTRY = "whitelist.view_whitelistentry"
ADD_ENTRY = "whitelist.add_whitelistentry"
CHANGE_ENTRY = "whitelist.change_whitelistentry"
