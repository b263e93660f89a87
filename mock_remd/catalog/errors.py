"""Error items the registry answers with: codes of the classifier and realistic Russian messages.

The message shapes follow the texts the real registry sends (``[value]`` placeholders filled with
the concrete value); where no real text is known the classifier description is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_remd.catalog.classifier import CLASSIFIER

#: code -> classifier description
DESCRIPTIONS: dict[str, str] = {code: desc for _id, code, desc, _contour in CLASSIFIER}
#: The registry answers RECIPIENT_* where NSI 305 spells RECEPIENT_*.
ALIASES: dict[str, str] = {
    code.replace("RECEPIENT_", "RECIPIENT_"): code for code in DESCRIPTIONS if code.startswith("RECEPIENT_")
}

#: Realistic message templates (str.format fields), as the registry writes them.
TEMPLATES: dict[str, str] = {
    "NO_RMIS": "РМИС/МИС не зарегистрирована в РЭМД",
    "DISABLED_RMIS": "РМИС/МИС [{system}] зарегистрирована в РЭМД, но не активна",
    "NOT_UNIQUE_PROVIDED_ID": "Документ с идентификатором '{local_uid}' уже зарегистрирован с номером [{emdr_id}]",
    "WRONG_CREATION_DATE": "Дата создания документа не может быть позднее даты регистрации",
    "NO_DOCUMENT_KIND_ON_DATE": "Вид документов [{kind}] не актуален на дату создания документа",
    "RATE_LIMIT": "Доступ к сервису временно запрещён - превышен лимит запросов",
    "NO_SIGNATURE": "Отсутствуют подписи документа",
    "ORG_NOT_BOUND": "Организация [{organization}] не привязана к РМИС [{system}]",
    "NO_SNILS": "СНИЛС пациента в составе сведений о пациенте обязателен для данного вида документов",
    "SERIES_REQUIRED": "Необходимо указать серию документа для вида документов [{kind}]",
    "INTERNAL_ERROR": "Внутренняя ошибка",
    "RUNTIME_ERROR": "Невозможно обработать запрос",
    #: a fault of ours met while checking the document (catalog/incidents.py): the incident id only
    "XML_VALIDATOR_ERROR": "Внутренняя ошибка валидации СЭМД (инцидент {incident})",
    "REGISTRY_ITEM_NOT_FOUND": "Запись регистра с идентификатором [{emdr_id}] не найдена",
    "INVALID_DOCTOR_FAMILY": (
        "Фамилия [{request}] медицинского работника в запросе на регистрацию отличается от фамилии [{document}] в СЭМД. СНИЛС [{snils}]"
    ),
    "INVALID_DOCTOR_NAME": (
        "Имя [{request}] медицинского работника в запросе на регистрацию отличается от имени [{document}] в СЭМД. СНИЛС [{snils}]"
    ),
    "INVALID_DOCTOR_PATRONYMIC": (
        "Отчество [{request}] медицинского работника в запросе на регистрацию отличается от отчества [{document}] в СЭМД. СНИЛС [{snils}]"
    ),
    "LEGAL_AUTHENTICATOR_NOT_FOUND": (
        "Медицинский работник [{snils}], придавший документу юридическую силу, не найден в запросе на регистрацию сведений"
    ),
    "INVALID_DOCTOR_INFO": "Медицинский работник [{snils}] из запроса на регистрацию сведений не найден в СЭМД",
    "INVALID_DOCTOR_SNILS": "Медицинский работник [{snils}] не найден в СЭМД или в запросе на регистрацию",
    "INVALID_DOCTOR_ID": (
        "Локальный идентификатор медицинского работника в запросе на регистрацию [{request}] отличается от уникального "
        "идентификатора медицинского работника в СЭМД [{document}]. СНИЛС [{snils}]"
    ),
    "INVALID_DICTIONARY_OID": "Справочник OID [{oid}]. Справочник с указанным кодом отсутствует",
    "INVALID_DICTIONARY_VERSION": "Справочник OID [{oid}]. Версия [{version}] недопустима для документа вида [{kind}]",
    "INVALID_ELEMENT_VALUE_CODE": "Справочник OID [{oid}], версия [{version}]. Элемент с кодом [{code}] отсутствует",
    "INVALID_ELEMENT_VALUE_NAME": (
        "Справочник OID [{oid}], версия [{version}]. Наименование [{name}] не соответствует наименованию в НСИ [{expected}]"
    ),
    "PATIENT_OCCURRENCE_MISMATCH": "Наличие сведений о пациенте не соответствует требованиям вида документов [{kind}]",
    "ORG_SIGNATURE_OCCURRENCE_MISMATCH": "Наличие подписи организации не соответствует требованиям вида документов [{kind}]",
    "GET_DOCUMENT_FILE_ERROR": "Ошибка при получении файла документа из предоставляющей системы: {detail}",
    "RMIS_ERROR": "Ошибка получения файла ЭМД из файлового хранилища: Error in getDocumentFile by SOAP",
    "MIS_NOT_AVAILABLE": "Сервис системы, предоставляющей документ, не доступен: {detail}",
    "FILE_WAS_NOT_SENT": "ИС не передала файл ЭМД",
    "INVALID_CONTENT": "Ошибка получения файла ЭМД из файлового хранилища: Переданный файл не является валидным XML файлом",
    "DIGEST_MISMATCH": "Хеш-сумма документа не соответствует хеш-сумме в ЭП [{detail}]",
    "INVALID_DOC_CONTENT_TYPE": "Документ не соответствует допустимому формату для вида документов [{kind}]",
    # a document's life: versions and links (the RESTRICT_NEW_VERSION text is the registry's own)
    "RESTRICT_NEW_VERSION": "Для ЭМД {kind} запрещена регистрация новых версий",
    "CANT_REG_VERSION": "Регистрация версии документа невозможна: {reason}",
    "CAN_NOT_ASSOCIATE": "Невозможно связать документы. Создание недопустимой связи документов: {reason}",
    "NOT_UNIQUE_ASSOCIATION": "Регистрируемая связь документов уже существует: документ [{target}], тип связи [{type}]",
}


@dataclass(frozen=True)
class ErrorItem:
    """One ``errors/item`` of a registry answer."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def is_known(code: str) -> bool:
    """True when ``code`` is in the classifier (either RECEPIENT_/RECIPIENT_ spelling)."""
    return code in DESCRIPTIONS or code in ALIASES


def describe(code: str) -> str:
    """The classifier description of ``code`` (empty for unknown codes)."""
    return DESCRIPTIONS.get(code) or DESCRIPTIONS.get(ALIASES.get(code, ""), "")


def message(code: str, /, **values: object) -> str:
    """A realistic message for ``code``: its template filled with ``values``, else the description."""
    template = TEMPLATES.get(code)
    if template:
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    return describe(code) or code


def item(code: str, text: str | None = None, /, **values: object) -> ErrorItem:
    """Build an :class:`ErrorItem`; ``text`` overrides the catalogue message."""
    return ErrorItem(code, text if text is not None else message(code, **values))


#: one sentence for a value of a request we cannot take: the field, the value, what is expected
BAD_VALUE = "Недопустимое значение [{value}] поля {field}: {expected}"
#: what a number in a request must be (the ``expected`` part of :data:`BAD_VALUE`)
EXPECTED_WHOLE_NUMBER = "{what}: ожидается целое число от {low} до {high}{unit}"


def bad_value(field: str, value: object, expected: str) -> ErrorItem:
    """VALIDATION_ERROR naming ``field`` and its ``value`` (shortened to 100 characters) and what is expected."""
    text = str(value)
    if len(text) > 100:
        text = text[:100] + "…"
    return ErrorItem("VALIDATION_ERROR", BAD_VALUE.format(value=text, field=field, expected=expected))


def validation_error(text: str) -> ErrorItem:
    """A ``VALIDATION_ERROR`` item with a free text (the registry's umbrella code)."""
    return ErrorItem("VALIDATION_ERROR", text)
