"""The platform's (P云) edge: signing, the open-API client, its call log and the fake platform."""
