"""Languages by name: the request form takes "arabiska, somaliska" (or ISO 639-1 codes) and the API gets codes."""

from __future__ import annotations

#: ISO 639-1 code -> (Swedish name, English name); the languages most often asked for in Swedish shelters.
LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "sv": ("svenska", "Swedish"), "en": ("engelska", "English"), "ar": ("arabiska", "Arabic"),
    "so": ("somaliska", "Somali"), "fa": ("persiska", "Persian"), "ti": ("tigrinja", "Tigrinya"),
    "tr": ("turkiska", "Turkish"), "ku": ("kurdiska", "Kurdish"), "bs": ("bosniska", "Bosnian"),
    "sr": ("serbiska", "Serbian"), "hr": ("kroatiska", "Croatian"), "pl": ("polska", "Polish"),
    "ru": ("ryska", "Russian"), "uk": ("ukrainska", "Ukrainian"), "es": ("spanska", "Spanish"),
    "fr": ("franska", "French"), "de": ("tyska", "German"), "fi": ("finska", "Finnish"),
    "th": ("thailändska", "Thai"), "vi": ("vietnamesiska", "Vietnamese"), "zh": ("kinesiska", "Chinese"),
    "sq": ("albanska", "Albanian"), "ro": ("rumänska", "Romanian"), "am": ("amhariska", "Amharic"),
    "ps": ("pashto", "Pashto"), "ur": ("urdu", "Urdu"), "hi": ("hindi", "Hindi"), "bn": ("bengali", "Bengali"),
    "ta": ("tamil", "Tamil"), "pa": ("punjabi", "Punjabi"), "pt": ("portugisiska", "Portuguese"),
    "it": ("italienska", "Italian"), "el": ("grekiska", "Greek"), "hu": ("ungerska", "Hungarian"),
    "nl": ("nederländska", "Dutch"), "no": ("norska", "Norwegian"), "da": ("danska", "Danish"),
    "et": ("estniska", "Estonian"), "lv": ("lettiska", "Latvian"), "lt": ("litauiska", "Lithuanian"),
    "bg": ("bulgariska", "Bulgarian"), "cs": ("tjeckiska", "Czech"), "sk": ("slovakiska", "Slovak"),
    "mk": ("makedonska", "Macedonian"), "hy": ("armeniska", "Armenian"), "ka": ("georgiska", "Georgian"),
    "az": ("azerbajdzjanska", "Azerbaijani"), "uz": ("uzbekiska", "Uzbek"), "sw": ("swahili", "Swahili"),
    "om": ("oromo", "Oromo"), "ja": ("japanska", "Japanese"), "ko": ("koreanska", "Korean"),
    "tl": ("tagalog", "Tagalog"), "he": ("hebreiska", "Hebrew"), "se": ("nordsamiska", "Northern Sami"),
    "yi": ("jiddisch", "Yiddish"), "mn": ("mongoliska", "Mongolian"), "ne": ("nepali", "Nepali"),
}
#: Other names people type for the same language.
ALIASES = {"dari": "fa", "farsi": "fa", "sorani": "ku", "kurmanji": "ku", "bkms": "bs", "mandarin": "zh",
           "arabic": "ar", "somali": "so", "persian": "fa"}


def code_of(typed: str) -> str | None:
    """The ISO code for a language name (Swedish or English, any case) or code; None if unknown."""
    word = typed.strip().casefold()
    if word in LANGUAGE_NAMES:
        return word
    if word in ALIASES:
        return ALIASES[word]
    for code, names in LANGUAGE_NAMES.items():
        if word in (names[0].casefold(), names[1].casefold()):
            return code
    return None


def name_of(code: str, lang: str) -> str:
    names = LANGUAGE_NAMES.get(code)
    return names[0 if lang == "sv" else 1] if names else code
