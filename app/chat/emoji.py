"""The emoji a reaction may be: a vendored, hand-picked table of common ones (Unicode 14), each
with its Unicode name and a few short aliases, so a reaction is found by typing its name
("thumbs", "tada", "+1"). A reaction is exactly one entry of this table, nothing else: text,
two emoji, a ZWJ sequence, skin tones, control or invisible characters are refused by
construction, and every entry fits the column (Reaction.emoji, 64)."""
from __future__ import annotations

import unicodedata

# The palette's order: the common reactions first, then faces, hands, hearts, nature, food, things.
_TABLE = """
👍 👎 ❤️ 😂 🎉 🙏 👀 🔥 ✅ ❌ 💯 🚀 😀 😃 😄 😁 😆 😅 🤣 🙂 🙃 😉 😊 😇 🥰 😍 🤩 😘 😋
😛 😜 🤪 😝 🤑 🤗 🤭 🤫 🤔 🤐 🤨 😐 😑 😶 😏 😒 🙄 😬 😌 😔 😪 🤤 😴 😷 🤒 🤕 🤢 🤮 🤧 🥵
🥶 🥴 😵 🤯 🤠 🥳 😎 🤓 🧐 😕 😟 🙁 😮 😯 😲 😳 🥺 😦 😧 😨 😰 😥 😢 😭 😱 😖 😣 😞 😓 😩
😫 🥱 😤 😡 😠 🤬 😈 💀 💩 🤡 👻 👽 🤖 😺 😸 😹 😻 😼 😽 🙀 😿 😾 🙈 🙉 🙊 💋 💌 💘 💝 💖
💗 💓 💞 💕 💔 🧡 💛 💚 💙 💜 🤎 🖤 🤍 💢 💥 💫 💦 💨 💬 💭 💤 👋 🤚 ✋ 🖖 👌 🤏 ✌️ 🤞
🤟 🤘 🤙 👈 👉 👆 👇 ☝️ ✊ 👊 🤛 🤜 👏 🙌 👐 🤲 🤝 ✍️ 💪 🧠 👂 👃 👁️ 👅 👄 👶 🧒 👦
👧 🧑 👨 👩 🧓 🙇 🤦 🤷 🏃 💃 🕺 🐶 🐱 🐭 🐹 🐰 🦊 🐻 🐼 🐨 🐯 🦁 🐮 🐷 🐸 🐵 🐔 🐧 🐦 🐤
🦆 🦅 🦉 🦇 🐺 🐴 🦄 🐝 🐛 🦋 🐌 🐞 🐢 🐍 🐙 🦑 🦀 🐠 🐟 🐬 🐳 🦈 🐊 🐘 🦒 🐪 🐄 🐑 🐐 🦌
🐕 🐈 🐓 🦃 🕊️ 🌵 🎄 🌲 🌳 🌴 🌱 🌿 🍀 🍁 🍂 🍃 🌷 🌹 🌺 🌸 🌼 🌻 🌞 🌝 🌚 🌙 ⭐ 🌟 ✨
⚡ ☄️ 🌈 ☀️ ⛅ ☁️ 🌧️ ⛈️ ❄️ ☃️ ⛄ 🌊 💧 ☔ 🍏 🍎 🍐 🍊 🍋 🍌 🍉 🍇 🍓 🍒 🍑 🥭
🍍 🥥 🥝 🍅 🥑 🥦 🌶️ 🌽 🥕 🥐 🍞 🧀 🥚 🍳 🥞 🥓 🍔 🍟 🍕 🌭 🌮 🌯 🍿 🍩 🍪 🎂 🍰 🧁 🍫
🍬 🍭 ☕ 🍵 🍺 🍻 🥂 🍷 🥃 🍸 🍹 ⚽ 🏀 🏈 ⚾ 🎾 🏐 🏓 🎯 🎳 🎮 🎲 🧩 🎨 🎭 🎬 🎤 🎧 🎸 🎹
🥁 🎺 🏆 🥇 🥈 🥉 🏅 🎁 🎈 🎊 🎀 🎃 🚗 🚕 🚌 🚲 🛴 ✈️ 🛸 🚢 ⏰ ⌛ ⏳ 📅 📌 📎 🔗 🔒 🔓
🔑 💡 📣 🔔 🔕 📝 📚 📖 💻 🖥️ 📱 ☎️ 📷 📦 💰 💸 💳 🧾 📈 📉 📊 🛠️ 🔧 🔨 ⚙️ 🧪 🔬 🔭
💊 🩹 🚧 🚨 🏁 🚩 🏳️ ⚠️ ⛔ 🚫 ❓ ❔ ❗ ‼️ ⁉️ ➕ ➖ ✔️ ☑️ 🆗 🆕 🆒 🆙 🔴 🟠 🟡 🟢
🔵 🟣 ⚫ ⚪ 🟥 🟩 🟦 ♻️ ♥️ 🌍 🏠 🏢 🎓 👑 💎 🧸 🪄 🫡 🫠 🫶 🥲 🤌
"""
# Names people type that are not the Unicode name (Slack's and GitHub's short codes, mostly).
ALIASES = {
    "👍": "+1 thumbsup like yes", "👎": "-1 thumbsdown no", "❤️": "heart love", "😂": "joy lol",
    "🎉": "tada party congratulations", "🙏": "pray thanks please", "👀": "eyes looking", "🔥": "fire lit",
    "✅": "check done yes", "❌": "x no cross", "💯": "100 hundred", "🚀": "rocket ship launch",
    "😀": "smile grin", "😄": "smile happy", "😆": "laughing", "🤣": "rofl", "😉": "wink", "😊": "blush",
    "🤔": "thinking hmm", "😢": "cry sad", "😭": "sob", "😱": "scream", "😡": "angry rage", "👏": "clap",
    "🙌": "raised hands hooray", "💪": "muscle strong", "👋": "wave hello bye", "👌": "ok", "✔️": "check",
    "🆗": "ok", "🤝": "handshake deal", "🥳": "party", "😎": "cool sunglasses", "🙈": "see no evil",
    "💡": "idea bulb", "⚠️": "warning", "🐛": "bug", "☕": "coffee", "🍕": "pizza", "🤷": "shrug",
    "🤦": "facepalm", "🫡": "salute", "🫶": "heart hands", "✨": "sparkles", "⭐": "star", "🏆": "trophy win",
}
MAX_BYTES = 64


def _name(emoji: str) -> str:
    return unicodedata.name(emoji.replace("\ufe0f", "")).lower()


EMOJI: tuple[str, ...] = tuple(dict.fromkeys(_TABLE.split()))
LABELS: dict[str, str] = {e: _name(e) for e in EMOJI}  # what a screen reader says for it
NAMES: dict[str, str] = {e: " ".join(filter(None, [LABELS[e], ALIASES.get(e, "")])) for e in EMOJI}
_KNOWN = set(EMOJI)
# The same emoji typed without its emoji presentation selector (U+FE0F), as keyboards often send it.
_BARE = {e.replace("\ufe0f", ""): e for e in EMOJI if "\ufe0f" in e}
_BY_NAME = {word: e for e in reversed(EMOJI) for word in [_name(e), *ALIASES.get(e, "").split()]}


def known(value: object) -> str | None:
    """The table's emoji that value is (with or without its U+FE0F), or None."""
    if not isinstance(value, str) or len(value.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None
    if value in _KNOWN:
        return value
    return _BARE.get(value)


def by_name(value: str) -> str | None:
    """The emoji a typed name means: an emoji itself, a whole Unicode name or alias (":tada:",
    "thumbs up sign"), else the first whose name has it as a word start ("thumb")."""
    if found := known(value.strip()):
        return found
    word = " ".join(value.strip().strip(":").lower().replace("_", " ").split())
    if not word or len(word) > 60:
        return None
    if word in _BY_NAME:
        return _BY_NAME[word]
    return next((e for e in EMOJI if any(w.startswith(word) for w in [NAMES[e], *NAMES[e].split()])), None)
