"""Naive reference action: request the token, mask it, set the output."""

import requests
from actions_toolkit import core

key, secret = core.get_input("api-key"), core.get_input("api-secret")
url = core.get_input("api-url") or "https://api.twitter.com"
response = requests.post(
    url + "/oauth2/token",
    auth=(key, secret),
    data={"grant_type": "client_credentials"},
    timeout=10,
)
response.raise_for_status()
token = response.json()["access_token"]
core.set_secret(token)
core.set_output("bearer", token)
