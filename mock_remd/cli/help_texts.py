"""Help of the command line in the user's language: Russian by default, English with ``--lang en``.

The subcommands describe themselves in English (``cmd_<name>.py``); :func:`localize` puts every help
text, description, epilog and group title of the parser tree into Russian from :data:`RU`, and sets
the parsers' usage prefix and error messages to the language. A help text without its Russian
rendering is a bug (tests/test_cli_help_languages.py walks every parser).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from mock_remd.catalog.user_messages import DEFAULT_LANG, LANGS, SentenceShapes

#: English help text -> Russian; argparse's own words included
RU: dict[str, str] = {
    # ---- argparse's own words ----------------------------------------------------------------------
    "positional arguments": "позиционные аргументы",
    "options": "параметры",
    "show this help message and exit": "показать эту справку и выйти",
    # ---- mock-remd and the options of every command --------------------------------------------------
    "Offline mock of the regional REMD of EMIAS (Moscow region): the registerDocument endpoint, callbacks, "
    "validation, scenarios":
        "Офлайн-имитатор регионального РЭМД ЕМИАС Московской области: метод registerDocument, обратные вызовы, "
        "валидация, сценарии",
    "print the version and exit": "показать версию и выйти",
    "language of messages: ru (default) or en": "язык сообщений и справки: ru (по умолчанию) или en",
    "print details of failures (library messages) after the one-line message":
        "после однострочного сообщения показать подробности сбоя (сообщения библиотек)",
    "one of": "одна из команд",
    "run the REMD mock server": "запустить сервер-имитатор РЭМД",
    "validate a SEMD (HL7 CDA document) offline, with the registry's codes and messages":
        "проверить СЭМД (документ HL7 CDA) офлайн, с кодами и сообщениями РЭМД",
    "register a SEMD file with a running mock-remd and print the outcome":
        "зарегистрировать файл СЭМД в запущенном mock-remd и показать результат",
    "generate valid (or deliberately invalid) SEMD and their registerDocument requests":
        "сгенерировать корректные (или намеренно ошибочные) СЭМД и их запросы registerDocument",
    "sign a document with a detached GOST CMS signature (base64 for signature/data)":
        "подписать документ отсоединённой подписью CMS ГОСТ (base64 для signature/data)",
    "check and list scenario files": "проверить файлы сценариев и показать их список",
    "import FNSI dictionary exports for the nsi validation layer, list them":
        "загрузить выгрузки справочников ФНСИ для слоя проверки nsi, показать их список",
    "install official XSD/Schematron packs (import, download) and list them":
        "установить официальные пакеты XSD/Schematron (import, download) и показать их список",
    "wait until a mock-remd server is ready": "дождаться готовности сервера mock-remd",
    "test an MIS: conformance runs (docs/conformance.md)": "проверить МИС: прогоны соответствия (docs/conformance.md)",
    # ---- serve ---------------------------------------------------------------------------------------
    "Run the REMD mock server.": "Запустить сервер-имитатор РЭМД.",
    "address to listen on (MOCK_REMD_HOST, default 127.0.0.1)":
        "адрес, на котором слушать (MOCK_REMD_HOST, по умолчанию 127.0.0.1)",
    "port (MOCK_REMD_PORT, default 8080)": "порт (MOCK_REMD_PORT, по умолчанию 8080)",
    "YAML config file (MOCK_REMD_CONFIG)": "файл настроек YAML (MOCK_REMD_CONFIG)",
    "database URL (MOCK_REMD_DB_URL): sqlite:///file, sqlite://, postgresql://":
        "адрес базы данных (MOCK_REMD_DB_URL): sqlite:///файл, sqlite://, postgresql://",
    "scenario directory (MOCK_REMD_SCENARIOS_DIR)": "каталог сценариев (MOCK_REMD_SCENARIOS_DIR)",
    "official validation packs (MOCK_REMD_PACKS_DIR, else .mock-remd/packs when present)":
        "официальные пакеты проверки (MOCK_REMD_PACKS_DIR, иначе .mock-remd/packs, если есть)",
    "imported dictionaries (MOCK_REMD_NSI_DIR, else .mock-remd/nsi when present)":
        "загруженные справочники (MOCK_REMD_NSI_DIR, иначе .mock-remd/nsi, если есть)",
    "HTTP worker processes sharing the port (MOCK_REMD_WORKERS, default 1)":
        "число HTTP-процессов на одном порту (MOCK_REMD_WORKERS, по умолчанию 1)",
    # ---- validate ------------------------------------------------------------------------------------
    "Validate a SEMD the way the registry does: the layers xml, kind, header, xsd, schematron, nsi, cross and "
    "signatures.":
        "Проверить СЭМД так, как это делает РЭМД: слои xml, kind, header, xsd, schematron, nsi, cross и signatures.",
    "exit status: 0 valid, 1 invalid, 2 no verdict: unusable input, or a partial check (XSD, Schematron or NSI "
    "did not run; --allow-partial gives 0)":
        "код выхода: 0 документ корректен, 1 есть ошибки, 2 вердикт не вынесен: входные данные непригодны или "
        "проверка неполная (не выполнялись XSD, Schematron или НСИ; с --allow-partial — 0)",
    "the CDA document ('-' reads standard input)": "документ CDA ('-' — читать стандартный ввод)",
    "NSI 1520 kind code (default: the request's kind, else detected)":
        "код вида документа по НСИ 1520 (по умолчанию — из запроса, иначе определяется по документу)",
    "registerDocumentRequest XML (SOAP envelope or bare) for cross-checks":
        "XML запроса registerDocumentRequest (конверт SOAP или сам запрос) для сверки с документом",
    "official validation packs directory (default MOCK_REMD_PACKS_DIR)":
        "каталог официальных пакетов проверки (по умолчанию MOCK_REMD_PACKS_DIR)",
    "NSI dictionaries directory (default MOCK_REMD_NSI_DIR, else .mock-remd/nsi if present)":
        "каталог справочников НСИ (по умолчанию MOCK_REMD_NSI_DIR, иначе .mock-remd/nsi, если есть)",
    "signature check level (default MOCK_REMD_SIGNATURES)": "уровень проверки подписей (по умолчанию MOCK_REMD_SIGNATURES)",
    "layers to run: all, none or a comma-separated list (default MOCK_REMD_VALIDATION)":
        "какие слои выполнять: all, none или список через запятую (по умолчанию MOCK_REMD_VALIDATION)",
    "output format (default text)": "формат вывода (по умолчанию text)",
    "report NSI dictionary OIDs that are not loaded (INVALID_DICTIONARY_OID)":
        "сообщать о справочниках НСИ, которые не загружены (INVALID_DICTIONARY_OID)",
    "a dictionary version that is not loaded: error (default) or check against the latest loaded version":
        "версия справочника, которая не загружена: error — ошибка (по умолчанию) или latest — сверять с последней "
        "загруженной версией",
    "config file (default MOCK_REMD_CONFIG)": "файл настроек (по умолчанию MOCK_REMD_CONFIG)",
    "exit 0 when no errors were found although XSD, Schematron or NSI did not run":
        "код выхода 0, если ошибок не найдено, хотя XSD, Schematron или НСИ не выполнялись",
    # ---- send ----------------------------------------------------------------------------------------
    "Register a SEMD file with a running mock-remd and report the outcome. FILE is a CDA document (the request "
    "is built from it and signed with the built-in TEST keys or --key/--cert) or a registerDocument request, "
    "sent as it is. The result comes to a temporary callback port, else from the admin API.":
        "Зарегистрировать файл СЭМД в запущенном mock-remd и сообщить результат. FILE — документ CDA (запрос "
        "строится по нему и подписывается встроенными ТЕСТОВЫМИ ключами или --key/--cert) или запрос "
        "registerDocument, который отправляется как есть. Результат приходит на временный порт обратного "
        "вызова, иначе берётся из API администрирования.",
    "exit status: 0 registered (or accepted with --wait 0), 1 rejected, 2 no answer / bad input":
        "код выхода: 0 зарегистрирован (или принят при --wait 0), 1 отклонён, 2 нет ответа или входные данные "
        "непригодны",
    "the CDA document (its exact bytes are sent and signed), or a registerDocument request envelope "
    "(.request.xml) sent as it is":
        "документ CDA (отправляются и подписываются его байты как есть) или конверт запроса registerDocument "
        "(.request.xml), который отправляется как есть",
    "base URL of the server, e.g. http://127.0.0.1:8080": "базовый адрес сервера, например http://127.0.0.1:8080",
    "mnemonic of the sending system (e.g. demo)": "мнемоника отправляющей системы (например demo)",
    "clientEntityId (default: the system's, from the admin API)":
        "clientEntityId (по умолчанию — системы, из API администрирования)",
    "MO OID (default: the document's custodian)": "OID МО (по умолчанию — custodian документа)",
    "NSI 1520 kind (default: from the document's templateId)":
        "вид документа по НСИ 1520 (по умолчанию — по templateId документа)",
    "documentNumber (MOCK:... picks a magic outcome)": "documentNumber (MOCK:... выбирает заданный исход)",
    "link to a registered document (emdrId or localUid); TYPE defaults to RPLC, the link to the version this "
    "document replaces; repeatable":
        "связь с зарегистрированным документом (emdrId или localUid); TYPE по умолчанию RPLC — связь с "
        "версией, которую заменяет этот документ; можно указать несколько раз",
    "doctor's GOST private key, PKCS#8 PEM (default: built-in TEST keys)":
        "закрытый ключ ГОСТ врача, PKCS#8 PEM (по умолчанию — встроенные ТЕСТОВЫЕ ключи)",
    "the doctor's certificate (PEM or DER)": "сертификат врача (PEM или DER)",
    "organisation's private key (default: the TEST organisation)":
        "закрытый ключ организации (по умолчанию — ТЕСТОВАЯ организация)",
    "the organisation's certificate": "сертификат организации",
    "send without orgSignature": "отправить без orgSignature",
    "how long to wait for the result (default 30; 0 = report acceptance only)":
        "сколько секунд ждать результата (по умолчанию 30; 0 — сообщить только о приёме)",
    "do not open a callback port; learn the result from the admin API":
        "не открывать порт для обратного вызова; узнать результат через API администрирования",
    "address the server can call back to (default: detected)":
        "адрес, по которому сервер может сделать обратный вызов (по умолчанию определяется)",
    "callback port (default: a free one)": "порт для обратного вызова (по умолчанию — свободный)",
    "SOAP version (default 1.2)": "версия SOAP (по умолчанию 1.2)",
    "admin API bearer token (env MOCK_REMD_ADMIN_TOKEN)":
        "токен API администрирования (переменная окружения MOCK_REMD_ADMIN_TOKEN)",
    "print the SOAP envelope instead of sending it": "показать конверт SOAP вместо отправки",
    # ---- generate ------------------------------------------------------------------------------------
    "Generate realistic SEMD with matching registerDocument requests: kinds 119, 174, 186 and 204 are "
    "hand-made, any other CDA kind of NSI 1520 is fitted to its installed pack's XSD.":
        "Сгенерировать правдоподобные СЭМД с подходящими запросами registerDocument: виды 119, 174, 186 и 204 "
        "сделаны вручную, любой другой вид CDA из НСИ 1520 подгоняется под XSD его установленного пакета.",
    "new versions": "новые версии",
    "with --version-of FILE: the next version of that document (new localUid, same setId, versionNumber + 1, "
    "an association to FILE's version)":
        "с --version-of FILE: следующая версия этого документа (новый localUid, тот же setId, versionNumber + 1, "
        "связь с версией FILE)",
    "NSI 1520 kind to generate (required): 119, 174, 186, 204 hand-made, or any CDA kind of the catalog "
    "(fitted to its installed pack's XSD)":
        "вид документа по НСИ 1520 (обязателен): 119, 174, 186, 204 — сделаны вручную, или любой вид CDA "
        "из справочника (подгоняется под XSD установленного пакета)",
    "list the rules --invalid can break, and exit": "показать правила, которые может нарушить --invalid, и выйти",
    "make the next version of this CDA document (any toolchain's; its kind is read from it)":
        "сделать следующую версию этого документа CDA (из любой системы; вид берётся из документа)",
    "how many documents (default 1)": "сколько документов (по умолчанию 1)",
    "output directory (default: the current directory)": "каталог для результата (по умолчанию — текущий)",
    "seed of the first document; document i uses seed+i (default: a fresh random seed, printed to stderr, so "
    "each run makes new localUids that a running registry has not seen)":
        "начальное значение (seed) первого документа; документ i использует seed+i (по умолчанию — новое "
        "случайное, выводится в stderr, так что каждый запуск даёт localUid, которых запущенный РЭМД не видел)",
    "break exactly one named rule (see --list-invalid)": "нарушить ровно одно названное правило (см. --list-invalid)",
    "MO OID (default: the demo organisation 1.2.643.5.1.13.13.12.2.50.99999)":
        "OID МО (по умолчанию — демонстрационная организация 1.2.643.5.1.13.13.12.2.50.99999)",
    "clientEntityId for the request header (default: the demo system's)":
        "clientEntityId для заголовка запроса (по умолчанию — демонстрационной системы)",
    "system mnemonic in the request (default: demo)": "мнемоника системы в запросе (по умолчанию demo)",
    "leave signatures out of the request": "не включать подписи в запрос",
    "installed packs a generic kind is fitted to (default: MOCK_REMD_PACKS_DIR, else .mock-remd/packs when "
    "present)":
        "установленные пакеты, под которые подгоняется вид документа (по умолчанию MOCK_REMD_PACKS_DIR, иначе "
        ".mock-remd/packs, если есть)",
    "SOAP version of the request": "версия SOAP запроса",
    "FILE's registry number: written into relatedDocument and used as the association target unless --target "
    "is given":
        "регистрационный номер FILE: записывается в relatedDocument и служит целью связи, если не указан --target",
    "association target (default: FILE's localUid, or --emdr-id)":
        "цель связи (по умолчанию — localUid документа FILE или --emdr-id)",
    "association type (default RPLC)": "тип связи (по умолчанию RPLC)",
    "write relatedDocument into the header (default: unless the kind's schema forbids it)":
        "записать relatedDocument в заголовок (по умолчанию — если схема вида документа это допускает)",
    # ---- sign ----------------------------------------------------------------------------------------
    "Sign a document with a detached GOST R 34.10-2012 CMS signature: base64 of the DER (what goes into "
    "signature/data), or raw DER with --der. Without --key/--cert the built-in TEST doctor key signs (--org: "
    "the TEST organisation).":
        "Подписать документ отсоединённой подписью CMS ГОСТ Р 34.10-2012: base64 от DER (то, что помещается в "
        "signature/data) или сам DER с --der. Без --key/--cert подписывает встроенный ТЕСТОВЫЙ ключ врача "
        "(--org — ТЕСТОВОЙ организации).",
    "exit status: 0 signed, 2 unusable input (missing file, unreadable key or certificate)":
        "код выхода: 0 подписано, 2 входные данные непригодны (нет файла, не читается ключ или сертификат)",
    "the document (its exact bytes are signed)": "документ (подписываются его байты как есть)",
    "GOST R 34.10-2012 private key, PKCS#8 PEM (openssl genpkey -engine gost)":
        "закрытый ключ ГОСТ Р 34.10-2012, PKCS#8 PEM (openssl genpkey -engine gost)",
    "the signer's certificate (PEM or DER)": "сертификат подписанта (PEM или DER)",
    "use the built-in TEST organisation key instead of the TEST doctor":
        "подписать встроенным ТЕСТОВЫМ ключом организации, а не врача",
    "where to write the signature (default FILE.sig; '-' = stdout)":
        "куда записать подпись (по умолчанию FILE.sig; '-' — стандартный вывод)",
    "write raw DER instead of base64": "записать DER, а не base64",
    # ---- scenarios -----------------------------------------------------------------------------------
    "Scenario files (docs/scenarios.md): lint them, list them.":
        "Файлы сценариев (docs/scenarios.md): проверка и список.",
    "lint or list": "lint — проверить или list — показать список",
    "check scenario files; exit 0 when all are valid, 1 otherwise":
        "проверить файлы сценариев; код выхода 0, если все корректны, иначе 1",
    "list the scenarios of files or directories (default: the scenarios directory)":
        "показать сценарии из файлов или каталогов (по умолчанию — каталог сценариев)",
    "Report every mistake as FILE:LINE: KEY: MESSAGE.": "Сообщить о каждой ошибке в виде ФАЙЛ:СТРОКА: КЛЮЧ: СООБЩЕНИЕ.",
    "scenario files or directories of *.yaml/*.yml/*.json": "файлы сценариев или каталоги с *.yaml/*.yml/*.json",
    "List the valid scenarios; exit 1 when a file could not be read and none was listed.":
        "Показать корректные сценарии; код выхода 1, если файл не прочитан и ни одного сценария не показано.",
    "scenario files or directories (default: the scenarios directory)":
        "файлы сценариев или каталоги (по умолчанию — каталог сценариев)",
    # ---- nsi -----------------------------------------------------------------------------------------
    "FNSI dictionaries used by the nsi validation layer.": "Справочники ФНСИ для слоя проверки nsi.",
    "import or list": "import — загрузить или list — показать список",
    "import FNSI table exports (TSV/CSV) into the NSI directory":
        "загрузить выгрузки таблиц ФНСИ (TSV/CSV) в каталог НСИ",
    "list the dictionaries in the NSI directory": "показать справочники в каталоге НСИ",
    "Import FNSI exports (a folder imports every .tsv/.csv in it). The OID and version come from the export's "
    "comment line or its file name <OID>_v<version>.tsv unless given.":
        "Загрузить выгрузки ФНСИ (из каталога загружаются все .tsv/.csv). OID и версия берутся из строки "
        "комментария выгрузки или из имени файла <OID>_v<версия>.tsv, если не указаны.",
    "FNSI export files (.tsv, .csv) or folders of them": "файлы выгрузок ФНСИ (.tsv, .csv) или каталоги с ними",
    "the NSI directory (default: MOCK_REMD_NSI_DIR, else .mock-remd/nsi)":
        "каталог НСИ (по умолчанию MOCK_REMD_NSI_DIR, иначе .mock-remd/nsi)",
    "the dictionary OID (when the file name does not say)": "OID справочника (если его нет в имени файла)",
    "the dictionary version (when the file does not say)": "версия справочника (если её нет в файле)",
    "column holding the code (default: per-OID table, else detected)":
        "столбец с кодом (по умолчанию — по таблице OID, иначе определяется)",
    "column holding the name (default: per-OID table, else detected)":
        "столбец с наименованием (по умолчанию — по таблице OID, иначе определяется)",
    # ---- packs ---------------------------------------------------------------------------------------
    "Official validation packs (XSD + Schematron) of the xsd and schematron layers.":
        "Официальные пакеты проверки (XSD + Schematron) для слоёв xsd и schematron.",
    "what to do with packs": "что сделать с пакетами",
    "install packs from portal ZIPs/folders or the 1C validator's data/ layout":
        "установить пакеты из ZIP-архивов или каталогов портала либо из каталога data/ валидатора 1С",
    "list installed packs": "показать установленные пакеты",
    "download packs (1C validator layout ZIP) and install them":
        "скачать пакеты (ZIP в раскладке валидатора 1С) и установить их",
    "Install packs: a portal ZIP or folder of a kind's edition, a folder of one pack, or a folder (or ZIP) in "
    "the 1C validator's layout (<kind>/…xsd + <kind>.sch, variants <kind>_1).":
        "Установить пакеты: ZIP или каталог редакции вида с портала, каталог одного пакета или каталог (или ZIP) "
        "в раскладке валидатора 1С (<вид>/…xsd + <вид>.sch, варианты <вид>_1).",
    "a ZIP or folder: a portal package, one pack, or the 1C validator's data/ layout":
        "ZIP или каталог: пакет с портала, один пакет или каталог data/ валидатора 1С",
    "the packs directory (default: MOCK_REMD_PACKS_DIR, else .mock-remd/packs)":
        "каталог пакетов (по умолчанию MOCK_REMD_PACKS_DIR, иначе .mock-remd/packs)",
    "the NSI 1520 kind of a portal pack whose templateId is not in the catalog":
        "вид по НСИ 1520 для пакета с портала, чьего templateId нет в справочнике",
    "do not validate a shipped example against its pack": "не проверять приложенный пример по его пакету",
    "text lines (default) or one JSON object": "строки текста (по умолчанию) или один объект JSON",
    "Fetch a ZIP in the 1C validator's layout (default: that repository's public archive; "
    "MOCK_REMD_PACKS_SOURCE or --source to change it) and install the packs as 'packs import' does.":
        "Скачать ZIP в раскладке валидатора 1С (по умолчанию — открытый архив его репозитория; другой источник — "
        "MOCK_REMD_PACKS_SOURCE или --source) и установить пакеты, как это делает 'packs import'.",
    "only these kinds (default: every pack in the archive)": "только эти виды (по умолчанию — все пакеты архива)",
    "URL (http/https/file) of the ZIP": "адрес ZIP (http/https/file)",
    "seconds to wait for the source (default 60)": "сколько секунд ждать источник (по умолчанию 60)",
    # ---- wait ----------------------------------------------------------------------------------------
    "Exit 0 once URL/ready answers 200; 1 on timeout; 2 for a malformed URL.":
        "Код выхода 0, как только URL/ready ответит 200; 1 — время вышло; 2 — адрес неверен.",
    "seconds to wait (default 60)": "сколько секунд ждать (по умолчанию 60)",
    "print nothing": "ничего не выводить",
    # ---- conformance ---------------------------------------------------------------------------------
    "Conformance runs: the mock scripts the registry's misbehaviour and judges the MIS.":
        "Прогоны соответствия: имитатор по сценарию воспроизводит сбои РЭМД и оценивает поведение МИС.",
    "what to do": "что сделать",
    "start a run for a system, follow it, write reports; exit 0 passed, 1 failed, 2 could not run":
        "начать прогон для системы, следить за ним, записать отчёты; код выхода 0 пройден, 1 не пройден, "
        "2 прогон не состоялся",
    "Start a conformance run, print each step as it changes and wait for the end. While it runs, let the MIS "
    "register documents (its own integration tests): each new localUid starts the next step.":
        "Начать прогон соответствия, показывать каждый шаг при изменении и дождаться конца. Пока прогон идёт, "
        "МИС регистрирует документы (своими интеграционными тестами): каждый новый localUid начинает следующий шаг.",
    "base URL of the mock, e.g. http://127.0.0.1:8080": "базовый адрес имитатора, например http://127.0.0.1:8080",
    "mnemonic of the system (MIS) under test": "мнемоника проверяемой системы (МИС)",
    "a plan name known to the server (default mis-basic) or a plan YAML file to send":
        "имя плана, известного серверу (по умолчанию mis-basic), или файл плана YAML для отправки",
    "seconds a step waits for its document and for the MIS (default 120)":
        "сколько секунд шаг ждёт свой документ и действия МИС (по умолчанию 120)",
    "seconds the MIS must wait before re-sending after RATE_LIMIT (default 60)":
        "сколько секунд МИС должна выждать перед повторной отправкой после RATE_LIMIT (по умолчанию 60)",
    "write the run (JSON) here at the end": "в конце записать прогон (JSON) в этот файл",
    "write the JUnit XML report here at the end": "в конце записать отчёт JUnit XML в этот файл",
    "print only the summary": "вывести только итог",
}

#: argparse's error sentences (English) -> Russian, most specific first
_ERRORS_RU = SentenceShapes((
    (r"^the following arguments are required: (?P<a>.+)$", "не указаны обязательные аргументы: {a}"),
    (r"^one of the arguments (?P<a>.+) is required$", "нужен один из аргументов: {a}"),
    (r"^unrecognized arguments: (?P<a>.+)$", "неизвестные аргументы: {a}"),
    (r"^argument (?P<a>\S+): invalid choice: (?P<v>.+) \(choose from (?P<c>.+)\)$",
     "аргумент {a}: недопустимое значение {v} (допустимы: {c})"),
    (r"^argument (?P<a>\S+): invalid (?P<t>\S+) value: (?P<v>.+)$", "аргумент {a}: недопустимое значение {v}"),
    (r"^argument (?P<a>\S+): expected one argument$", "аргумент {a}: нужно одно значение"),
    (r"^argument (?P<a>\S+): expected at least one argument$", "аргумент {a}: нужно хотя бы одно значение"),
    (r"^argument (?P<a>\S+): not allowed with argument (?P<b>\S+)$", "аргумент {a} нельзя указывать вместе с {b}"),
    (r"^argument (?P<a>\S+): ignored explicit argument (?P<v>.+)$", "аргумент {a}: лишнее значение {v}"),
    (r"^ambiguous option: (?P<a>\S+) could match (?P<b>.+)$", "неоднозначный параметр {a}: подходят {b}"),
))


def translate_error(lang: str, message: str) -> str:
    """argparse's error ``message`` in ``lang`` (the known sentence shapes; others stay as they are)."""
    return _ERRORS_RU.translate(message) if lang == "ru" else message


def lang_of_argv(argv: list[str]) -> str:
    """The ``--lang`` given anywhere on the command line (before or after the subcommand), else Russian."""
    value = ""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
    return value if value in LANGS else DEFAULT_LANG


class CliParser(argparse.ArgumentParser):
    """An argument parser whose usage line and errors are in :attr:`lang` (set by :func:`localize`)."""

    lang = DEFAULT_LANG

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        """As argparse's, but an unknown option is refused by the (sub)command it was given to, with that
        command's usage line rather than the top-level one."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._chosen(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _chosen(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The deepest subcommand parser ``parsed`` went through (``self`` when none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and action.dest != argparse.SUPPRESS:
                child = action.choices.get(getattr(parsed, action.dest, None) or "")
                if child is not None:
                    return child._chosen(parsed) if isinstance(child, CliParser) else child
        return self

    def error(self, message: str) -> NoReturn:  # argparse's sentence, translated; exit status 2 as argparse's
        self.print_usage(sys.stderr)
        word = "ошибка" if self.lang == "ru" else "error"
        self.exit(2, f"{self.prog}: {word}: {translate_error(self.lang, message)}\n")


def _formatter(lang: str) -> type[argparse.HelpFormatter]:
    usage_prefix = "использование: " if lang == "ru" else None

    class Formatter(argparse.HelpFormatter):
        def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
            super().add_usage(usage, actions, groups, prefix if prefix is not None else usage_prefix)

    return Formatter


def _say(lang: str, value: str | None) -> str | None:
    if lang != "ru" or not value or value == argparse.SUPPRESS:
        return value
    return RU.get(value, value)


def localize(parser: argparse.ArgumentParser, lang: str) -> None:
    """Put the help of ``parser`` and of every subcommand under it into ``lang``."""
    formatter = _formatter(lang)

    def walk(p: argparse.ArgumentParser) -> None:
        p.formatter_class = formatter
        if isinstance(p, CliParser):
            p.lang = lang
        p.description = _say(lang, p.description)
        p.epilog = _say(lang, p.epilog)
        for group in p._action_groups:
            group.title = _say(lang, group.title)
            group.description = _say(lang, group.description)
        for action in p._actions:
            action.help = _say(lang, action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    choice.help = _say(lang, choice.help)
                for child in dict.fromkeys(action.choices.values()):
                    walk(child)

    walk(parser)


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    """Every help text, description, epilog and group title under ``parser`` (for the completeness test)."""
    found: list[str] = []

    def walk(p: argparse.ArgumentParser) -> None:
        found.extend(t for t in (p.description, p.epilog) if t)
        for group in p._action_groups:
            found.extend(t for t in (group.title, group.description) if t)
        for action in p._actions:
            if action.help and action.help != argparse.SUPPRESS:
                found.append(action.help)
            if isinstance(action, argparse._SubParsersAction):
                found.extend(c.help for c in action._choices_actions if c.help)
                for child in dict.fromkeys(action.choices.values()):
                    walk(child)

    walk(parser)
    return list(dict.fromkeys(found))
