#!/usr/bin/env python3
# Regenerate with: python3 testdata/initdata/generate.py > testdata/initdata/vectors.json
# Independent generator (Python hmac/hashlib) for testdata/initdata/vectors.json.
import hmac, hashlib, json
from urllib.parse import quote

def h(token, dcs):
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, dcs.encode(), hashlib.sha256).hexdigest()

USER = '{"id":279058397,"first_name":"Vladislav + - ? \\/","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\\/\\/t.me\\/i\\/userpic\\/320\\/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg"}'
UENC = "%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D"
from urllib.parse import unquote
assert unquote(UENC) == USER

TMA = "Telegram Mini Apps community docs (docs.telegram-mini-apps.com, @telegram-apps/init-data-node docs and tests)"
GO = "telegram-mini-apps/init-data-golang README"
R1 = "user=" + UENC + "&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6"
R1_TOKEN = "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ"
R2 = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
R2_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
R3 = "user=" + UENC + "&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73"
R3_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"

v = []
def add(**kw):
    kw.setdefault("want_error", "")
    v.append(kw)

add(name="tma_third_party_production", source=TMA, mode="third_party", raw=R1, bot_id=7342037359, public_key="production", now=1733584787+60, user_id=279058397, user_first_name="Vladislav + - ? /",
    data_check_string="7342037359:WebAppData\nauth_date=1733584787\nchat_instance=8134722200314281151\nchat_type=private\nuser=" + USER)
add(name="tma_third_party_hmac", source=TMA + "; the token is the one their tests publish", mode="hmac", raw=R1, bot_token=R1_TOKEN, now=1733584787+60, user_id=279058397, user_first_name="Vladislav + - ? /")
add(name="tma_third_party_test_key", source=TMA, mode="third_party", raw=R1, bot_id=7342037359, public_key="test", now=1733584787+60, want_error="ErrSignatureMismatch")
add(name="tma_third_party_other_bot", source=TMA, mode="third_party", raw=R1, bot_id=7342037358, public_key="production", now=1733584787+60, want_error="ErrSignatureMismatch")
add(name="tma_third_party_expired", source=TMA, mode="third_party", raw=R1, bot_id=7342037359, public_key="production", now=1733584787+86400+1, want_error="ErrExpired")
add(name="tma_validate_hmac", source=TMA, mode="hmac", raw=R2, bot_token=R2_TOKEN, now=1662771648, user_id=279058397, user_first_name="Vladislav",
    data_check_string='auth_date=1662771648\nquery_id=AAHdF6IQAAAAAN0XohDhrOrc\nuser={"id":279058397,"first_name":"Vladislav","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true}')
add(name="tma_validate_hmac_wrong_token", source=TMA, mode="hmac", raw=R2, bot_token=R2_TOKEN + "A", now=1662771648, want_error="ErrSignatureMismatch")
add(name="tma_validate_hmac_expired", source=TMA, mode="hmac", raw=R2, bot_token=R2_TOKEN, now=1662771648+86400+1, want_error="ErrExpired")
add(name="golang_readme_hmac", source=GO, mode="hmac", raw=R3, bot_token=R3_TOKEN, now=1733509682, user_id=279058397, user_first_name="Vladislav + - ? /")
add(name="golang_readme_third_party", source=GO, mode="third_party", raw=R3, bot_id=7342037359, public_key="production", now=1733509682, user_id=279058397, user_first_name="Vladislav + - ? /")
add(name="golang_readme_signature_not_signed_field_renamed", source=GO + ", altered", mode="hmac", raw=R3.replace("signature=", "altered="), bot_token=R3_TOKEN, now=1733509682, want_error="ErrSignatureMismatch")

# Our own vectors: awkward characters, hash computed here with Python's hmac.
TOKEN = "1234567890:TeleCart-test-token_NOT-A-REAL-BOT"
user = '{"id":5000131393,"first_name":"Anna + Maria 100% ✓","last_name":"Müller-Łukasz 🛒","username":"anna_m","language_code":"de","allows_write_to_pm":true,"photo_url":"https:\\/\\/t.me\\/i\\/userpic\\/320\\/a+b%2Fc.svg"}'
chat_instance = "-92233720368547758089"
fields = {"auth_date": "1735689600", "chat_instance": chat_instance, "chat_type": "sender", "query_id": "AAE+/q=", "start_param": "c_42-x", "user": user}
dcs = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
hs = h(TOKEN, dcs)
raw_pct = "&".join(f"{quote(k, safe='')}={quote(val, safe='')}" for k, val in fields.items()) + "&hash=" + hs
add(name="own_percent_encoded", source="TeleCart, generated by an independent Python hmac script", mode="hmac", raw=raw_pct, bot_token=TOKEN, now=1735689600+3600, user_id=5000131393, user_first_name="Anna + Maria 100% ✓", data_check_string=dcs)
# The same fields, spaces written as '+', like an HTML form; the hash is the same.
from urllib.parse import quote_plus
raw_plus = "hash=" + hs + "&" + "&".join(f"{k}={quote_plus(val, safe='')}" for k, val in sorted(fields.items(), reverse=True))
add(name="own_plus_for_space", source="TeleCart, generated by an independent Python hmac script", mode="hmac", raw=raw_plus, bot_token=TOKEN, now=1735689600, user_id=5000131393, user_first_name="Anna + Maria 100% ✓", data_check_string=dcs)
add(name="own_uppercase_hex_hash", source="TeleCart, generated by an independent Python hmac script", mode="hmac", raw=raw_pct.replace(hs, hs.upper()), bot_token=TOKEN, now=1735689600, user_id=5000131393, user_first_name="Anna + Maria 100% ✓")
add(name="own_future_59s", source="TeleCart", mode="hmac", raw=raw_pct, bot_token=TOKEN, now=1735689600-59, user_id=5000131393, user_first_name="Anna + Maria 100% ✓")
add(name="own_future_61s", source="TeleCart", mode="hmac", raw=raw_pct, bot_token=TOKEN, now=1735689600-61, want_error="ErrFromFuture")
add(name="own_reencoded_json_fails", source="TeleCart: the hash covers the JSON as sent, so unescaping \\/ breaks it", mode="hmac", raw=raw_pct.replace("%5C%2F", "%2F"), bot_token=TOKEN, now=1735689600, want_error="ErrSignatureMismatch")
add(name="own_double_decoded_fails", source="TeleCart: %25 decodes once to '%'; decoding twice would differ", mode="hmac", raw=raw_pct.replace("100%25", "100%2525"), bot_token=TOKEN, now=1735689600, want_error="ErrSignatureMismatch")
add(name="own_duplicate_key", source="TeleCart", mode="hmac", raw=raw_pct + "&user=%7B%22id%22%3A1%7D", bot_token=TOKEN, now=1735689600, want_error="ErrDuplicateKey")

doc = {
  "about": "initData vectors. Telegram's own page (core.telegram.org/bots/webapps) publishes the algorithm and the Ed25519 public keys but no example data; the tma_* and golang_* vectors come from the community Telegram Mini Apps docs and carry real Telegram signatures (they verify with Telegram's production key); own_* vectors were generated with Python's hmac, independently of the Go code. now is the Unix time of the validation; max age is 24h.",
  "vectors": v,
}
print(json.dumps(doc, ensure_ascii=False, indent=2))
