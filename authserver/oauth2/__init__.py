"""The OAuth 2.0 authorization server: Authlib glue, grants, endpoints, the scope catalogue, JWT access tokens."""
