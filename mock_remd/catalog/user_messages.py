"""Sentences the tool says to its user (CLI, admin API, dashboard), in Russian and English.

Every message is one sentence in one language: Russian by default, English on request (``--lang en``,
``Accept-Language: en``). Values are filled into the templates; details of a library failure
(exception text) never go into a message: they belong in ``--verbose`` output and the log.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

LANGS = ("ru", "en")
DEFAULT_LANG = "ru"

#: key -> (Russian, English) ``str.format`` templates
MESSAGES: dict[str, tuple[str, str]] = {
    # ---- settings and options --------------------------------------------------------------------
    "config.no_dir": ("{setting} {value}: нет такого каталога", "{setting} {value}: no such directory"),
    "config.no_file": ("{setting} {value}: нет такого файла", "{setting} {value}: no such file"),
    "config.not_port": ("{setting} {value}: это не номер TCP-порта (1–65535)",
                        "{setting} {value}: not a TCP port (1–65535)"),
    "config.one_of": ("{setting} {value}: допустимые значения — {allowed}",
                      "{setting} {value}: expected one of {allowed}"),
    "config.at_least_one": ("{setting} {value}: нужно не меньше 1", "{setting} {value}: at least 1 is needed"),
    "config.not_number": ("{setting} {value}: ожидалось число", "{setting} {value}: expected a number"),
    "config.not_list": ("{setting}: ожидался список", "{setting}: expected a list"),
    "config.not_code_names": ("{setting}: ожидалось соответствие код=название (в переменной окружения — через ;)",
                           "{setting}: expected a mapping code=name (in the environment: separated by ;)"),
    "config.range": ("{setting} {value}: каждое значение должно быть от {low} до {high}",
                     "{setting} {value}: each value must be from {low} to {high}"),
    "config.no_delays": ("{setting}: нужна хотя бы одна задержка", "{setting}: at least one delay is needed"),
    "config.file_problem": ("файл настроек {value}: {detail}", "config file {value}: {detail}"),
    "config.file_unreadable": ("файл настроек {value} не читается ({detail})", "config file {value} cannot be read ({detail})"),
    "config.not_mapping": ("файл настроек {value}: на верхнем уровне ожидался словарь",
                           "config file {value}: expected a mapping at the top level"),
    "config.unknown_keys": ("файл настроек {value}: неизвестные ключи {keys}",
                            "config file {value}: unknown keys {keys}"),
    "config.layers": ("{setting} {value}: неизвестные слои {unknown} (известны: {allowed})",
                      "{setting} {value}: unknown layers {unknown} (known: {allowed})"),
    # ---- files ------------------------------------------------------------------------------------
    "generate.seed": ("seed {seed} (повторить: --seed {seed})", "seed {seed} (repeat with --seed {seed})"),
    "generate.kind_required": ("нужен --kind (например: {kinds})", "--kind is required (for example: {kinds})"),
    "generate.not_cda_kind": ("вид {kind} не генерируется: это не вид CDA справочника НСИ 1520 v{version} "
                              "(виды, написанные вручную: {kinds})",
                              "kind {kind} cannot be generated: it is not a CDA kind of NSI 1520 v{version} "
                              "(hand-made kinds: {kinds})"),
    "generate.unknown_rule": ("неизвестное правило {rule}: список — mock-remd generate --list-invalid",
                              "unknown rule {rule}; see mock-remd generate --list-invalid"),
    "generate.rule_kinds": ("правило {rule} применимо только к видам {kinds}", "rule {rule} applies to kinds {kinds} only"),
    "generate.count": ("--count: нужно число не меньше 1", "--count must be at least 1"),
    "generate.cannot_create": ("каталог {path} не создаётся: {reason}", "cannot create {path}: {reason}"),
    "file.is_dir": ("{path} — это каталог, а нужен файл документа", "{path} is a directory, not a document file"),
    "file.missing": ("нет такого файла: {path}", "no such file: {path}"),
    "file.unreadable": ("файл {path} не читается: {reason}", "cannot read {path}: {reason}"),
    "file.io_error": ("ошибка ввода-вывода", "an input/output error"),
    "file.unwritable": ("файл {path} не записывается: {reason}", "cannot write {path}: {reason}"),
    "sign.done": ("{path}: отсоединённая подпись CMS ({form}), {size} байт DER",
                  "{path}: {form} detached CMS, {size} bytes of DER"),
    "file.not_xml": ("{what} {path} — не XML (строка {line})", "{what} {path} is not well-formed XML (line {line})"),
    "file.unsafe_xml": ("{what} {path} отклонён: {reason}", "{what} {path} is refused: {reason}"),
    "file.no_request": ("{path}: в файле запроса нет registerDocumentRequest", "{path} holds no registerDocumentRequest"),
    "file.request_missing": ("нет такого файла запроса: {path}", "no such request file: {path}"),
    "word.request": ("запрос", "request"),
    # ---- serve ------------------------------------------------------------------------------------
    "serve.port_in_use": ("порт {port} на {host} уже занят другим процессом — остановите его или укажите --port",
                          "port {port} on {host} is already in use by another process: stop it or choose --port"),
    "serve.no_address": ("адрес {host} нельзя занять: у этой машины нет такого адреса (--host)",
                         "cannot listen on {host}: this machine has no such address (--host)"),
    "serve.unknown_host": ("адрес {host} не найден (--host)", "address {host} cannot be resolved (--host)"),
    "serve.bind_denied": ("нет прав слушать порт {port} на {host} (порты ниже 1024 — только для root)",
                          "no permission to listen on port {port} at {host} (ports below 1024 need root)"),
    "serve.bind_failed": ("не удалось слушать {host}:{port}", "cannot listen on {host}:{port}"),
    "config.db_kind": ("{setting} {value}: неизвестный вид базы данных (нужен sqlite:///файл, sqlite:// или postgresql://…)",
                       "{setting} {value}: unknown kind of database (use sqlite:///file, sqlite:// or postgresql://…)"),
    "serve.db_driver": ("{setting} {url}: драйвер PostgreSQL не установлен (pip install 'mock-remd[postgres]')",
                        "{setting} {url}: the PostgreSQL driver is not installed (pip install 'mock-remd[postgres]')"),
    "serve.db_unreachable": ("база данных {url} недоступна: {reason}", "the database {url} is unreachable: {reason}"),
    "serve.db_not_writable": ("{path} недоступен для записи пользователю uid {uid}: отдайте его этому пользователю "
                              "(chown -R {uid} …) или используйте именованный том",
                              "{path} is not writable by uid {uid}: give it to that user (chown -R {uid} …) "
                              "or use a named volume"),
    "serve.db_failed": ("база данных {url} не открывается", "cannot open the database {url}"),
    # ---- network failures (one sentence; details only with --verbose and in the log) ---------------
    "net.refused": ("сервер {where} отказал в соединении", "the server at {where} refused the connection"),
    "net.timeout": ("сервер {where} не ответил вовремя", "the server at {where} did not answer in time"),
    "net.no_host": ("узел {host} не найден (ошибка в адресе?)", "the host {host} cannot be found (a typo in the address?)"),
    "net.dropped": ("сервер {where} разорвал соединение, не ответив", "the server at {where} closed the connection without an answer"),
    "net.tls": ("защищённое соединение с {where} не установлено", "no secure connection to {where} could be established"),
    "net.unreachable": ("сервер {where} недоступен (нет маршрута)", "the server at {where} cannot be reached (no route)"),
    "net.failed": ("связаться с {where} не удалось", "could not talk to {where}"),
    "net.http": ("сервер {where} ответил HTTP {status}", "the server at {where} answered HTTP {status}"),
    "net.db_refused": ("сервер базы данных отказал в соединении", "the database server refused the connection"),
    "net.db_auth": ("сервер базы данных не принял пользователя или пароль",
                    "the database server did not accept the user or password"),
    "net.db_missing": ("такой базы данных на сервере нет", "no such database on the server"),
    "net.db_other": ("сервер базы данных не отвечает", "the database server does not answer"),
    # ---- requests the HTTP front refuses before a view reads them (server/buffering_worker.py) -------
    "http.http_malformed": ("запрос не разобран: нарушен протокол HTTP", "the request is not valid HTTP"),
    "http.http_front_failed": ("внутренняя ошибка", "internal error"),
    "http.http_line_too_long": ("строка запроса HTTP слишком длинная", "the HTTP request line is too long"),
    "http.http_headers_too_large": ("заголовки запроса HTTP слишком велики", "the HTTP request headers are too large"),
    "http.http_transfer_coding": ("кодирование Transfer-Encoding не поддерживается",
                                  "the Transfer-Encoding is not supported"),
    # ---- admin API query parameters ---------------------------------------------------------------
    "query.not_int": ("параметр {name}={value}: ожидалось целое число", "parameter {name}={value}: expected an integer"),
    "query.range": ("параметр {name}={value}: допустимо от {low} до {high}",
                    "parameter {name}={value}: allowed from {low} to {high}"),
    "query.at_least": ("параметр {name}={value}: нужно не меньше {low}", "parameter {name}={value}: at least {low}"),
    "query.one_of": ("параметр {name}={value}: допустимые значения — {allowed}",
                     "parameter {name}={value}: expected one of {allowed}"),
    "query.not_time": ("параметр {name}={value}: ожидались дата и время ISO 8601",
                       "parameter {name}={value}: expected an ISO 8601 date and time"),
    # ---- layers that did not run: why, and how to make them run -------------------------------------
    "skip.disabled": ("слой отключён настройкой (--layers / MOCK_REMD_VALIDATION)",
                      "the layer is turned off (--layers / MOCK_REMD_VALIDATION)"),
    "skip.not_xml": ("документ не разобран как XML", "the document is not well-formed XML"),
    "skip.not_cda": ("корневой элемент не ClinicalDocument (urn:hl7-org:v3)",
                     "the root element is not an HL7 CDA ClinicalDocument"),
    "skip.no_packs": ("официальные пакеты не установлены: mock-remd packs import КАТАЛОГ или mock-remd packs download",
                      "the official packs are not installed: mock-remd packs import DIR or mock-remd packs download"),
    "skip.kind_unknown": ("вид СЭМД не определён: укажите --kind", "the document kind is unknown: give --kind"),
    "skip.no_pack_for_kind": ("нет пакета для этого вида СЭМД: mock-remd packs import КАТАЛОГ или mock-remd packs download",
                              "no pack for this document kind: mock-remd packs import DIR or mock-remd packs download"),
    "skip.no_nsi": ("справочники НСИ не загружены: mock-remd nsi import ФАЙЛ…",
                    "the NSI dictionaries are not imported: mock-remd nsi import FILE…"),
    "skip.signatures_off": ("проверка подписей отключена (MOCK_REMD_SIGNATURES=off)",
                            "signature checks are off (MOCK_REMD_SIGNATURES=off)"),
    "skip.no_request": ("нет запроса registerDocument: укажите --request", "no registerDocument request: give --request"),
    "skip.other": ("{reason}", "{reason}"),
    "verdict.not_run": ("не выполнялись: {items}", "not run: {items}"),
    "verdict.partial_exit": ("проверка неполная, вердикт не вынесен (код выхода {status}; с --allow-partial — 0): "
                             "{not_run}",
                             "the check is partial, no verdict (exit status {status}; 0 with --allow-partial): "
                             "{not_run}"),
    "verdict.also": ("то же нашёл слой {layers}", "also found by {layers}"),
    # ---- the text report of validate (JSON and JUnit keep their English keys: machine formats) ------
    "report.valid": ("ДЕЙСТВИТЕЛЕН", "VALID"),
    "report.invalid": ("НЕДЕЙСТВИТЕЛЕН ({errors})", "INVALID ({errors})"),
    "report.partial": ("ЧАСТИЧНО", "PARTIAL"),
    "report.head": ("{source}: {verdict}, {kind}", "{source}: {verdict}, {kind}"),
    "report.document": ("документ", "document"),
    "report.kind": ("вид {kind}", "kind {kind}"),
    "report.kind_unknown": ("вид не определён", "kind unknown"),
    "report.ok": ("пройден", "ok"),
    "report.failed": ("НЕ ПРОЙДЕН", "FAILED"),
    "report.skipped": ("пропущен", "skipped"),
    "report.shown_under": ("{count} показано под schematron", "{count} shown under schematron"),
    "report.rule": ("правило {value}", "rule {value}"),
    "report.line": ("строка {value}", "line {value}"),
    "report.path": ("путь {value}", "path {value}"),
    "report.severity.warning": ("предупреждение", "warning"),
    "report.severity.info": ("сведения", "info"),
    # counted nouns: Russian one|few|many, English one|other
    "count.error": ("{n} ошибка|{n} ошибки|{n} ошибок", "{n} error|{n} errors"),
    "count.finding": ("{n} замечание|{n} замечания|{n} замечаний", "{n} finding|{n} findings"),
    # ---- YAML we cannot read (scenarios, plans, the config file): our words, never the parser's ----
    "yaml.syntax": ("не YAML: {what} (строка {line}, столбец {column})",
                    "not valid YAML: {what} (line {line}, column {column})"),
    "yaml.syntax_nowhere": ("не YAML: {what}", "not valid YAML: {what}"),
    "yaml.what.tab": ("символ табуляции там, где YAML допускает только пробелы",
                      "a tab character where YAML allows only spaces"),
    "yaml.what.colon": ("двоеточие там, где значение не может начаться (значение с «: » возьмите в кавычки)",
                        "a colon where no value can start (put a value holding ': ' in quotes)"),
    "yaml.what.no_colon": ("после ключа нет двоеточия", "a key without a colon after it"),
    "yaml.what.indent": ("отступы или скобки не сходятся", "the indentation or the brackets do not line up"),
    "yaml.what.unclosed": ("кавычка или скобка не закрыта до конца текста",
                           "a quote or a bracket is not closed before the end of the text"),
    "yaml.what.escape": ("недопустимая escape-последовательность в строке в двойных кавычках",
                         "an unknown escape sequence in a double-quoted string"),
    "yaml.what.alias": ("ссылка *имя на якорь, которого нет", "an alias *name to an anchor that does not exist"),
    "yaml.what.anchor": ("якорь &имя объявлен дважды", "the anchor &name is declared twice"),
    "yaml.what.control": ("управляющий символ {char}, которого в YAML быть не может",
                          "the control character {char}, which YAML does not allow"),
    "yaml.what.tag": ("неизвестный тег !{tag} (допустимы только обычные значения YAML)",
                      "an unknown tag !{tag} (only plain YAML values are accepted)"),
    "yaml.what.not_utf8": ("текст не в кодировке UTF-8 (байт {byte})", "the text is not UTF-8 (byte {byte})"),
    "yaml.what.several": ("несколько документов YAML (---) там, где ожидается один",
                          "several YAML documents (---) where one is expected"),
    "yaml.what.other": ("синтаксическая ошибка", "a syntax error"),
    "yaml.limit.aliases": ("больше {bound} ссылок (*имя): превышен предел ссылок YAML",
                           "more than {bound} aliases (*name): over the YAML alias limit"),
    "yaml.limit.depth": ("вложенность глубже {bound} уровней: превышен предел вложенности YAML",
                         "nested deeper than {bound} levels: over the YAML depth limit"),
    "yaml.limit.depth_aliases": ("через ссылки вложенность глубже {bound} уровней: превышен предел вложенности YAML",
                                 "nested deeper than {bound} levels through aliases: over the YAML depth limit"),
    "yaml.limit.values": ("через ссылки разворачивается больше чем в {bound} значений: превышен предел YAML",
                          "expands to more than {bound} values through aliases: over the YAML expansion limit"),
    "yaml.limit.recursion": ("ссылка указывает на значение, которое её содержит: рекурсивный YAML не принимается",
                             "an alias refers to a value that contains it: recursive YAML is not accepted"),
    "yaml.limit.bytes": ("{size} байт: больше предела YAML в {bound} байт",
                         "{size} bytes: over the YAML size limit of {bound} bytes"),
    "yaml.at_line": ("{text} (строка {line})", "{text} (line {line})"),
    # ---- XML refused before parsing (xmlsafe) -------------------------------------------------------
    "xml.too_large": ("XML размером {size} байт больше допустимых {limit} байт",
                      "XML of {size} bytes is over the limit of {limit} bytes"),
    "xml.doctype": ("объявления DOCTYPE не допускаются", "DOCTYPE declarations are not allowed"),
    # not well-formed XML: what is wrong (xml_syntax picks one by libxml2's wording) and where
    "xml.syntax.depth": ("слишком глубокая вложенность элементов", "the elements are nested too deep"),
    "xml.syntax.tag_mismatch": ("закрывающий тег не совпадает с открывающим",
                                "a closing tag does not match its opening tag"),
    "xml.syntax.cut_short": ("документ оборван", "the document is cut short"),
    "xml.syntax.empty": ("документ пуст", "the document is empty"),
    "xml.syntax.no_start_tag": ("документ не начинается с элемента", "the document does not start with an element"),
    "xml.syntax.extra_content": ("после корневого элемента есть лишнее содержимое",
                                 "there is more content after the root element"),
    "xml.syntax.not_utf8": ("текст не в кодировке UTF-8", "the text is not UTF-8"),
    "xml.syntax.prefix": ("не объявлен префикс пространства имён", "a namespace prefix is not declared"),
    "xml.syntax.ampersand": ("символ & не экранирован", "an & character is not escaped"),
    "xml.syntax.unquoted": ("значение атрибута не в кавычках", "an attribute value is not in quotes"),
    "xml.syntax.attributes": ("ошибка в атрибутах", "a mistake in the attributes"),
    "xml.syntax.other": ("синтаксическая ошибка XML", "an XML syntax error"),
    "xml.syntax.at_line_column": ("{what} (строка {line}, столбец {column})", "{what} (line {line}, column {column})"),
    "xml.syntax.at_line": ("{what} (строка {line})", "{what} (line {line})"),
    # ---- a CDA document send/generate cannot use -----------------------------------------------------
    "doc.not_xml": ("документ — не корректный XML: {why}", "the document is not well-formed XML: {why}"),
    "doc.refused": ("документ отклонён: {why}", "the document is refused: {why}"),
    "doc.not_cda": ("корневой элемент — не ClinicalDocument CDA (urn:hl7-org:v3)",
                    "the root element is not a CDA ClinicalDocument (urn:hl7-org:v3)"),
    "doc.missing": ("в документе нет {what}", "the document has no {what}"),
    "doc.no_kind": ("вид документа не определяется по его templateId: укажите --kind N (НСИ 1520)",
                    "the kind is not known from the document's templateId; pass --kind N (NSI 1520)"),
    "doc.no_org": ("в документе нет OID организации (custodian): укажите --organization OID",
                   "no custodian organisation OID in the document; pass --organization OID"),
    "doc.no_signer": ("в документе нет автора или legalAuthenticator со СНИЛС: подписать документ некому",
                      "no author or legalAuthenticator with a SNILS in the document: nobody can sign it"),
    "doc.no_id": ("в документе нет ClinicalDocument/id/@extension (его localUid)",
                  "the document has no ClinicalDocument/id/@extension (its localUid)"),
    "doc.no_set_id": ("в документе нет ClinicalDocument/setId", "the document has no ClinicalDocument/setId"),
    "doc.no_version": ("в документе нет числового ClinicalDocument/versionNumber/@value",
                       "the document has no numeric ClinicalDocument/versionNumber/@value"),
    # ---- keys and certificates given to send ------------------------------------------------------
    "signer.pair": ("{key_option} и {cert_option} указываются вместе", "{key_option} and {cert_option} go together"),
    "signer.bad_key": ("{option}: это не закрытый ключ ГОСТ Р 34.10-2012 (PKCS#8, PEM или DER)",
                       "{option}: not a GOST R 34.10-2012 private key (PKCS#8, PEM or DER)"),
    "signer.bad_cert": ("{option}: это не сертификат X.509 (PEM или DER)",
                        "{option}: not an X.509 certificate (PEM or DER)"),
    "signer.cannot_sign": ("подписать ключом {options} не удалось: нужен закрытый ключ ГОСТ Р 34.10-2012 и его "
                           "сертификат X.509", "cannot sign with {options}: a GOST R 34.10-2012 private key and its "
                           "X.509 certificate are needed"),
    # ---- send ---------------------------------------------------------------------------------------
    "outcome.registered": ("зарегистрирован: emdrId {emdr_id}, localUid {local_uid}",
                           "registered: emdrId {emdr_id}, localUid {local_uid}"),
    "outcome.rejected": ("отклонён: localUid {local_uid}", "rejected: localUid {local_uid}"),
    "outcome.accepted": ("принят: localUid {local_uid}", "accepted: localUid {local_uid}"),
    "outcome.no_answer": ("ответа нет: localUid {local_uid}", "no answer: localUid {local_uid}"),
    "outcome.via": ("{via}, {seconds} с", "{via}, {seconds} s"),
    "outcome.via.sync": ("синхронный ответ", "synchronous answer"),
    "outcome.via.callback": ("обратный вызов", "callback"),
    "outcome.via.registry": ("API администрирования", "admin API"),
    "outcome.not_waited": ("принят к обработке; результат не ожидался (--wait 0)",
                           "accepted for processing; not waiting for the result (--wait 0)"),
    "outcome.fault": ("SOAP Fault {fault}", "SOAP Fault {fault}"),
    "outcome.timeout": ("результата нет за {seconds} с; последнее состояние: {seen}",
                        "no result within {seconds} s; last seen: {seen}"),
    "outcome.seen.admin": ("API администрирования: {reason}", "admin API: {reason}"),
    "outcome.seen.http": ("API администрирования: HTTP {status}", "admin API: HTTP {status}"),
    "outcome.seen.waiting": ("ожидание", "waiting"),
    "outcome.seen.not_yet": ("в реестре ещё нет", "not in the registry yet"),
    "outcome.seen.earlier": ("реестр всё ещё показывает прежний запрос с этим localUid",
                             "the registry still shows an earlier request for this localUid"),
    "outcome.seen.status": ("статус {status}", "status {status}"),
    "outcome.malformed": ("получен нечитаемый обратный вызов ({size} байт, не registerDocumentResult)",
                          "a malformed callback was received ({size} bytes, not a readable registerDocumentResult)"),
    "outcome.foreign": ("получен обратный вызов с чужим идентификатором (relatesToMessage {relates_to}, не этого запроса)",
                        "a callback with a foreign correlation id was received "
                        "(relatesToMessage {relates_to}, not this request's)"),
    "outcome.no_callback": ("обратный вызов не получен", "callback not received"),
    "outcome.none_queued": ("обратный вызов не получен: мок не поставил его в очередь для этого запроса",
                            "callback not received: the mock queued no callback for this request"),
    "outcome.delivery": ("обратный вызов не получен: доставка на {url} — {status} ({why})",
                         "callback not received: delivery to {url} is {status} ({why})"),
    "outcome.not_attempted": ("ещё не было попыток", "not attempted yet"),
    "nsi.imported": ("импортирован {oid} v{version} «{name}»: {codes} (столбец кода {code_column}, "
                     "столбец названия {name_column}) -> {target}",
                     "imported {oid} v{version} «{name}»: {codes} (code column {code_column}, "
                     "name column {name_column}) -> {target}"),
    "nsi.duplicates": ("предупреждение: {count} повторяющихся кодов, оставлен первый ({shown})",
                       "warning: {count} duplicate codes kept first ({shown})"),
    "nsi.empty_codes": ("предупреждение: пропущено строк без кода: {count}", "warning: {count} rows without a code skipped"),
    "nsi.kinds": ("НСИ 1520 (виды документов): видов — {count}; mock-remd serve и validate используют их, когда этот "
                  "каталог — их каталог НСИ (--nsi / MOCK_REMD_NSI_DIR)",
                  "NSI 1520 (document kinds): {count} kinds; mock-remd serve and validate use them "
                  "when this directory is their NSI directory (--nsi / MOCK_REMD_NSI_DIR)"),
    "nsi.missing": ("нет такого файла или каталога: {path}", "no such file or directory: {path}"),
    "nsi.no_exports": ("выгрузки .tsv/.csv не найдены", "no .tsv/.csv exports found"),
    "nsi.single_file": ("--oid/--version относятся только к одному файлу", "--oid/--version apply to a single file"),
    "nsi.unusable": ("{path}: {reason}", "{path}: {reason}"),
    "nsi.not_readable": ("файл не читается", "file not readable"),
    "nsi.export.no_code_column": ("нет столбца кода {wanted} (столбцы: {columns})",
                                  "no code column {wanted} (columns: {columns})"),
    "nsi.export.no_name_column": ("нет столбца наименования {wanted} (столбцы: {columns})",
                                  "no name column {wanted} (columns: {columns})"),
    "nsi.export.no_header": ("нет строки заголовка", "no header row"),
    "nsi.export.bad_json": ("не является корректным JSON (строка {line})", "not valid JSON (line {line})"),
    "nsi.export.no_records": ("в выгрузке JSON нет записей (ожидался список в list, records, data или rows)",
                              "no records in the JSON export (expected a list under list, records, data or rows)"),
    "nsi.export.bad_record": ("запись выгрузки JSON — ни объект, ни список столбцов",
                              "a record of the JSON export is neither an object nor a column list"),
    "nsi.export.no_oid": ("не удалось определить OID справочника: назовите файл <OID>_v<версия>.tsv или укажите --oid",
                          "cannot tell the dictionary OID: name the file <OID>_v<version>.tsv or give --oid"),
    "nsi.export.no_version": ("не удалось определить версию справочника: назовите файл <OID>_v<версия>.tsv "
                              "или укажите --version",
                              "cannot tell the dictionary version: name the file <OID>_v<version>.tsv or give --version"),
    "nsi.export.no_codes": ("в столбце {column} нет кодов (строк данных: {rows})",
                            "no codes in column {column} ({rows} data rows)"),
    "nsi.none": ("в {dir} нет справочников (mock-remd nsi import ФАЙЛ…)", "no dictionaries in {dir} (mock-remd nsi import FILE…)"),
    "nsi.load.unreadable": ("файл не прочитан", "the file could not be read"),
    "nsi.load.damaged": ("файл словаря повреждён", "the dictionary file is damaged"),
    "nsi.load.export_unreadable": ("файл выгрузки не прочитан", "the export file could not be read"),
    "nsi.load.not_utf8": ("текст не в кодировке UTF-8 (байт {byte})", "the text is not UTF-8 (byte {byte})"),
    "nsi.load.bad_json": ("не является корректным JSON (строка {line}, позиция {column})",
                          "not valid JSON (line {line}, column {column})"),
    "nsi.load.os": ("{reason}", "{reason}"),
    "nsi.store.format": ("не файл справочника mock-remd (формат {format})",
                         "not a mock-remd NSI store file (format {format})"),
    "nsi.overrides.bad_json": ("{path}: не является корректным JSON (строка {line}, позиция {column})",
                               "{path}: not valid JSON (line {line}, column {column})"),
    "nsi.overrides.shape": ("переопределения НСИ должны сопоставлять каждому OID объект",
                            "NSI overrides must map each OID to an object"),
    "nsi.unreadable": ("не читается: {name}: {error}", "unreadable: {name}: {error}"),
    "count.code": ("{n} код|{n} кода|{n} кодов", "{n} code|{n} codes"),
    "packs.installed": ("установлен {kind} редакция {edition} (templateId {template_id}) -> {directory} [{files}{example}]",
                        "installed {kind} edition {edition} (templateId {template_id}) -> {directory} [{files}{example}]"),
    "packs.example_passes": (", пример проходит", ", example passes"),
    "packs.example_fails": (", пример НЕ ПРОХОДИТ", ", example FAILS"),
    "packs.summary": ("установлено пакетов: {done} из {total}, в {dir}", "{done} of {total} packs installed in {dir}"),
    "packs.summary_from": ("установлено пакетов: {done} из {total}, в {dir} из {source}",
                           "{done} of {total} packs installed in {dir} from {source}"),
    "packs.refused": ("отклонён: {error}", "refused {error}"),
    "packs.warning": ("  предупреждение: {text}", "  warning: {text}"),
    "packs.detail": ("  подробности: {detail}", "  details: {detail}"),
    # ---- the pack installer's refusals and warnings (each names the file) --------------------------
    "pack.zip_unreadable": ("{archive}: не читается как ZIP-архив (повреждён или это не ZIP)",
                            "{archive}: not a readable ZIP archive (damaged or not a ZIP)"),
    "pack.zip_too_many": ("{archive}: записей {n}, больше допустимых {limit}", "{archive}: {n} entries, more than {limit}"),
    "pack.zip_too_big": ("{archive}: распакованный объём больше {mb} МБ", "{archive}: unpacks to more than {mb} MB"),
    "pack.zip_outside": ("{archive}: запись {entry} указывает за пределы архива",
                         "{archive}: entry {entry} points outside the archive"),
    "pack.xsd_outside": ("{xsd}: ссылается на {path} вне каталога XSD пакета",
                         "{xsd}: refers to {path}, outside the pack's XSD folder"),
    "pack.xsd_missing": ("{xsd}: нет XSD-файла, на который она ссылается: {path}",
                         "{xsd}: the XSD file it refers to is missing: {path}"),
    "pack.not_xml": ("{file}: XML построен с ошибкой ({why})", "{file}: not well-formed XML ({why})"),
    "pack.xsd_no_load": ("{xsd}: XSD не загружается (её не принимают ни libxml2, ни xmlschema)",
                         "{xsd}: the XSD does not load (neither libxml2 nor xmlschema accepts it)"),
    "pack.xsd_refused": ("{xsd}: libxml2 не принимает эту XSD в опубликованном виде; проверка идёт через {engine}",
                         "{xsd}: libxml2 refuses this XSD as published; validated with {engine}"),
    "pack.sch_no_compile": ("{sch}: Schematron не компилируется", "{sch}: the Schematron does not compile"),
    "pack.no_kind": ("{file}: вид не определён: templateId {templates} нет в НСИ 1520 v{version} (укажите --kind N)",
                     "{file}: cannot tell the kind: templateId {templates} is not in NSI 1520 v{version} (give --kind N)"),
    "pack.nothing": ("{label}: не найдены ни Schematron (.sch), ни XSD, объявляющая ClinicalDocument",
                     "{label}: no Schematron (.sch) and no XSD declaring ClinicalDocument found"),
    "pack.only_sch": ("{label}: нет XSD, объявляющей ClinicalDocument; установлен только Schematron",
                      "{label}: no XSD declaring ClinicalDocument; only the Schematron is installed"),
    "pack.only_xsd": ("{label}: нет Schematron (.sch); установлена только XSD",
                      "{label}: no Schematron (.sch); only the XSD is installed"),
    "pack.kind_not_in_nsi": ("вида {kind} нет в НСИ 1520 v{version} (mock-remd nsi import более новой выгрузки)",
                             "kind {kind} is not in NSI 1520 v{version} (mock-remd nsi import a newer export)"),
    "pack.example_fails": ("{file}: собственный пример пакета его не проходит: {shown}{more}",
                           "{file}: the pack's own example does not pass it: {shown}{more}"),
    "pack.and_more": (" (и ещё {n})", " (and {n} more)"),
    "pack.not_folder_or_zip": ("{path}: не каталог и не ZIP-архив", "{path}: neither a folder nor a ZIP archive"),
    "pack.no_such": ("{path}: нет такого файла или каталога", "{path}: no such file or directory"),
    "pack.io": ("{label}: не удалось прочитать или записать файл {file}", "{label}: cannot read or write the file {file}"),
    "packs.missing": ("нет такого файла или каталога: {path}", "no such file or directory: {path}"),
    "packs.not_found": ("{path}: пакет не найден (нет .sch и нет XSD, объявляющей ClinicalDocument)",
                        "{path}: no pack found (no .sch and no XSD declaring ClinicalDocument)"),
    "packs.none": ("в {dir} нет пакетов (mock-remd packs download или mock-remd packs import ПУТЬ…)",
                   "no packs in {dir} (mock-remd packs download, or mock-remd packs import PATH…)"),
    "packs.none_in_archive": ("{source}: в архиве нет пакетов", "{source}: no packs in the archive"),
    "packs.none_for_kinds": ("{source}: в архиве нет пакетов для видов {kinds}", "{source}: no packs for kinds {kinds} in the archive"),
    "download.not_readable": ("{source} — не файл, который можно прочитать", "{source} is not a file that can be read"),
    "download.scheme": ("{source}: поддерживаются только источники http, https и file",
                        "{source}: only http, https and file sources are supported"),
    "download.http": ("{source} ответил HTTP {status} вместо архива", "{source} answered HTTP {status}, not the archive"),
    "download.too_big": ("{source} прислал больше {limit} МБ", "{source} sent more than {limit} MB"),
    "download.timeout": ("{source} не ответил за {seconds} с", "{source} did not answer within {seconds} s"),
    "download.unreachable": ("{source} недоступен (нет соединения); скачайте ZIP там, где есть сеть, и выполните "
                             "mock-remd packs import ФАЙЛ",
                             "{source} cannot be reached (no connection); download the ZIP where the network allows "
                             "and run mock-remd packs import FILE"),
    "count.file": ("{n} файл|{n} файла|{n} файлов", "{n} file|{n} files"),
    # ---- /ready details (JSON keys and status values stay; the sentences follow Accept-Language) ----
    "ready.store_down": ("база данных не отвечает (инцидент {id})", "the database does not answer (incident {id})"),
    "ready.streebog_slow": ("Стрибог (ГОСТ Р 34.11-2012) вычисляется на чистом Python (gostcrypto, около 6 с на МиБ): "
                            "установите движок GOST для OpenSSL (пакет Debian libengine-gost-openssl) для быстрой "
                            "проверки хешей",
                            "Streebog (GOST R 34.11-2012) is computed in pure Python (gostcrypto, about 6 s per MiB): "
                            "install the OpenSSL GOST engine (Debian package libengine-gost-openssl) for fast digest "
                            "checks"),
    "ready.crypto_slow": ("подписи ГОСТ Р 34.10 проверяются на чистом Python (gostcrypto, десятки миллисекунд каждая): "
                          "{why}",
                          "GOST R 34.10 signatures are verified in pure Python (gostcrypto, tens of milliseconds "
                          "each): {why}"),
    "ready.why.forced": ("так задано: MOCK_REMD_GOST_VERIFY=gostcrypto", "MOCK_REMD_GOST_VERIFY=gostcrypto"),
    "ready.why.no_engine": ("движок GOST для OpenSSL не найден (пакет Debian libengine-gost-openssl)",
                            "OpenSSL GOST engine not found (Debian package libengine-gost-openssl)"),
    "ready.why.no_methods": ("у движка GOST для OpenSSL нет методов ключей", "OpenSSL GOST engine has no key methods"),
    "ready.why.no_libcrypto": ("libcrypto не найдена", "libcrypto not found"),
    "ready.why.failed": ("движок GOST для OpenSSL не загрузился (см. журнал)",
                         "OpenSSL GOST engine could not be loaded (see the log)"),
    "ready.ca_unreadable": ("список доверенных УЦ MOCK_REMD_TRUSTED_CA [{ca}] не читается",
                            "the trusted CA list MOCK_REMD_TRUSTED_CA [{ca}] cannot be read"),
    "material.no_packs": ("нет официальных пакетов XSD/Schematron ({where})", "no official XSD/Schematron packs ({where})"),
    "material.no_nsi": ("нет справочников ФНСИ ({where})", "no FNSI dictionaries ({where})"),
    "material.unset": ("{setting} не задан", "{setting} is not set"),
    # ---- scenario and plan lint (scenarios lint, the admin API's detail, the dashboard) --------------
    "lint.type.map": ("словарь", "a mapping"),
    "lint.type.list": ("список", "a list"),
    "lint.type.null": ("пусто (null)", "nothing (null)"),
    "lint.type.bool": ("логическое значение ({value})", "a boolean ({value})"),
    "lint.type.number": ("число ({value})", "a number ({value})"),
    "lint.type.other": ("{type} {value}", "{type} {value}"),
    "lint.and": ("{first} и {last}", "{first} and {last}"),
    "lint.problems": ("найдено ошибок: {n}", "{n} problem(s) found"),
    "lint.all_valid": ("сценариев: {scenarios}{plans}, все без ошибок", "{scenarios} scenario(s){plans}, all valid"),
    "lint.plans": (", планов соответствия: {n}", ", {n} conformance plan(s)"),
    "lint.skipped": ("пропущен: {issue}", "skipped: {issue}"),
    "lint.too_big": ("{size} байт: больше предела в {limit} байт", "{size} bytes: over the size limit of {limit} bytes"),
    "lint.not_json": ("не JSON (столбец {column})", "not valid JSON (column {column})"),
    "lint.too_deep": ("вложенность глубже {depth} уровней: больше предела", "nested deeper than {depth} levels: over the depth limit"),
    "lint.not_yaml": ("не YAML: {what}", "not valid YAML: {what}"),
    "lint.not_yaml_at": ("не YAML (столбец {column}): {what}", "not valid YAML at column {column}: {what}"),
    "lint.empty_file": ("файл пуст: ожидался сценарий (name, rules)", "the file is empty: expected a scenario (name, rules)"),
    "lint.several_docs": ("несколько документов YAML (---) в одном файле: по одному сценарию на файл",
                          "several YAML documents (---) in one file: put one scenario per file"),
    "lint.twice": ("этот ключ указан дважды", "this key is given twice"),
    "lint.unknown_key": ("неизвестный ключ {name}; допустимы: {allowed}", "unknown key {name}; expected one of: {allowed}"),
    "lint.want_map": ("ожидался словарь, а указано: {got}", "expected a mapping, got {got}"),
    "lint.want_int": ("ожидалось целое число, а указано: {got}", "expected a whole number, got {got}"),
    "lint.want_between": ("ожидалось число от {low} до {high}, а указано {value}",
                          "expected a number between {low} and {high}, got {value}"),
    "lint.want_at_least": ("ожидалось число не меньше {low}, а указано {value}", "expected a number at least {low}, got {value}"),
    "lint.want_bool": ("ожидалось true или false, а указано: {got}", "expected true or false, got {got}"),
    "lint.want_str": ("ожидалась строка, а указано: {got}", "expected a string, got {got}"),
    "lint.empty_list": ("список пуст: укажите хотя бы одно значение или уберите ключ",
                        "the list is empty: give at least one value or drop the key"),
    "lint.bad_regex": ("неверное регулярное выражение {value}", "not a valid regular expression {value}"),
    "lint.bad_regex_at": ("неверное регулярное выражение {value} (позиция {pos})",
                          "not a valid regular expression {value} (at position {pos})"),
    "lint.want_errors": ("ожидался список {{code, message}}, а указано: {got}", "expected a list of {{code, message}}, got {got}"),
    "lint.no_errors": ("список пуст: укажите хотя бы один {{code: ...}}", "the list is empty: give at least one {{code: ...}}"),
    "lint.error_no_code": ("у элемента ошибки нет code", "an error item needs a code"),
    "lint.want_error_item": ("ожидалось {{code: ..., message: ...}}, а указано: {got}",
                             "expected {{code: ..., message: ...}}, got {got}"),
    "lint.unknown_code": ("неизвестный код ошибки {code}: его нет в классификаторе ошибок РЭМД (НСИ 1.2.643.5.1.13.13.99.2.305)",
                          "unknown error code {code}: not in the REMD error classifier (NSI 1.2.643.5.1.13.13.99.2.305)"),
    "lint.unknown_operation": ("неизвестная операция {value}; допустимы: {allowed}",
                               "unknown operation {value}; expected one of: {allowed}"),
    "lint.bad_snils": ("в СНИЛС 11 цифр (123-456-789 01 или 12345678901), а указано {value}",
                       "a SNILS has 11 digits (123-456-789 01 or 12345678901), got {value}"),
    "lint.want_probability": ("ожидалось число от 0 до 1, а указано: {got}", "expected a number from 0 to 1, got {got}"),
    "lint.no_attempts": ("список пуст: укажите хотя бы один номер попытки", "the list is empty: give at least one attempt number"),
    "lint.fault_code": ("ожидалось Sender или Receiver (SOAP 1.2), Client или Server (SOAP 1.1), а указано {value}",
                        "expected Sender or Receiver (SOAP 1.2), Client or Server (SOAP 1.1), got {value}"),
    "lint.want_choice": ("ожидалось {alternatives}, а указано {value}", "expected {alternatives}, got {value}"),
    "lint.replacing": ("{keys} заменяют ответ целиком: оставьте только один из них",
                       "{keys} each replace the answer: give only one of them"),
    "lint.http_status_with": ("http_status сочетается только с fault (fault с этим статусом), но не с {other}",
                              "http_status combines with fault only (a fault with that status), not with {other}"),
    "lint.success_errors": ("status: success не может содержать errors", "status: success cannot carry errors"),
    "lint.rule_noop": ("правило ничего не меняет: укажите sync: или callback: (или оба)",
                       "the rule changes nothing: give sync: or callback: (or both)"),
    "lint.no_callback_op": ("у {operations} нет обратного вызова с результатом: callback: относится только к registerDocument",
                            "{operations} has no result callback: callback: applies to registerDocument only"),
    "lint.attempt_op": ("attempt считает запросы с одним localUid: относится только к registerDocument",
                        "attempt counts requests for one localUid: it applies to registerDocument only"),
    "lint.want_document": ("ожидался {what} ({shape}), а указано: {got}", "expected a {what} ({shape}), got {got}"),
    "lint.needs_name": ("нужно имя (name): {what}", "the {what} needs a name"),
    "lint.bad_name": ("имя — буквы, цифры, '.', '_' и '-' (до 128, без пробелов), а указано {value}",
                      "a name uses letters, digits, '.', '_' and '-' (up to 128, no spaces), got {value}"),
    "lint.want_list_of": ("ожидался список ({what}), а указано: {got}", "expected a list of {what}, got {got}"),
    "lint.empty_list_of": ("список пуст ({what})", "the list of {what} is empty"),
    "lint.what.scenario": ("сценарий", "scenario"),
    "lint.what.plan": ("план", "plan"),
    "lint.shape.scenario": ("словарь с name и rules", "a mapping with name and rules"),
    "lint.shape.plan": ("словарь с name и steps", "a mapping with name and steps"),
    "lint.what.rules": ("правила", "rules"),
    "lint.what.steps": ("шаги", "steps"),
    "lint.needs_rules": ("в сценарии нужны rules: список {{match, sync, callback}}",
                         "the scenario needs rules: a list of {{match, sync, callback}}"),
    "lint.needs_steps": ("в плане нужны steps: список {{id, title, answer, resend, expect}}",
                         "the plan needs steps: a list of {{id, title, answer, resend, expect}}"),
    "lint.no_file": ("нет такого файла или каталога", "no such file or directory"),
    "lint.unreadable": ("файл не читается: {reason}", "cannot read the file: {reason}"),
    "lint.not_readable": ("не читается", "not readable"),
    "lint.name_used": ("имя {name} уже занято: {other}", "the name {name} is already used by {other}"),
    "lint.plan_name_used": ("имя плана {name} уже занято: {other}", "the plan name {name} is already used by {other}"),
    "lint.want_seconds": ("ожидались секунды (число) или одно из {params}, а указано: {got}",
                          "expected seconds (a number) or one of {params}, got {got}"),
    "lint.seconds_range": ("ожидались секунды от 0 до {high}, а указано {value}", "expected seconds between 0 and {high}, got {value}"),
    "lint.one_check": ("проверка — одна из {checks} с её настройками, например ack: {{within_s: 5}}",
                       "a check is one of {checks} with its settings, e.g. ack: {{within_s: 5}}"),
    "lint.unknown_check": ("неизвестная проверка {value}; допустимы: {checks}", "unknown check {value}; expected one of: {checks}"),
    "lint.want_status": ("ожидалось 2xx или any, а указано {value}", "expected 2xx or any, got {value}"),
    "lint.step_no_id": ("у шага нет id", "the step needs an id"),
    "lint.bad_step_id": ("id — строчные буквы, цифры, '.', '_' и '-', а указано {value}",
                         "an id uses lower-case letters, digits, '.', '_' and '-', got {value}"),
    "lint.step_id_used": ("id {value} уже занят шагом {step}", "the id {value} is already used by step {step}"),
    "lint.step_no_expect": ("шагу нужен expect: список проверок (ack, foreign_ack, resend, no_resend, poll)",
                            "the step needs expect: a list of checks (ack, foreign_ack, resend, no_resend, poll)"),
    "lint.want_checks": ("ожидался непустой список проверок", "expected a non-empty list of checks"),
    "lint.skip_ack": ("ответ не шлёт обратный вызов (skip: true): подтверждать нечего",
                      "the answer sends no callback (skip: true): nothing to acknowledge"),
    "lint.foreign_ack": ("foreign_ack требует answer.callback.foreign_first: true",
                         "foreign_ack needs answer.callback.foreign_first: true"),
    "send.waiting": ("жду {what} — до {seconds} с …", "waiting up to {seconds} s for {what} …"),
    "generate.header_without_packs": (" (header, если пакеты не установлены)", " (header without packs)"),
    "generate.list_kinds": (" (виды {kinds})", " (kinds {kinds})"),
    "send.still_waiting": ("всё ещё жду, {seconds} с ({seen})", "still waiting, {seconds} s ({seen})"),
    "send.what_callback": ("обратный вызов на {url}", "the callback on {url}"),
    "send.what_admin": ("результат (API администрирования)", "the result (admin API)"),
    "send.polling_instead": ("{note}; результат будет взят из API администрирования",
                             "{note}; polling the admin API instead"),
    "send.not_restored": ("не удалось вернуть прежний callback_url системы {system}: {reason}",
                          "could not restore the callback_url of {system}: {reason}"),
    "send.admin_refused": ("{url} ответил HTTP {status}: {error}", "{url} answered HTTP {status}: {error}"),
    "send.no_system": ("системы '{system}' на {url} нет (см. GET {url}/_admin/systems)",
                       "no system '{system}' on {url} (see GET {url}/_admin/systems)"),
    "send.no_system_route": ("нет системы '{system}', чей callback_url можно направить на временный порт",
                             "no system '{system}' to point at the callback port"),
    "send.route_refused": ("callback_url системы {system} не удалось направить на {url}: HTTP {status}: {error}",
                           "cannot point {system}'s callback at {url}: HTTP {status}: {error}"),
    # ---- wait ---------------------------------------------------------------------------------------
    "wait.bad_url": ("URL {url}: нужен адрес http:// или https://", "URL {url}: must start with http:// or https://"),
    "wait.ready": ("{url} готов", "{url} is ready"),
    "wait.not_ready": ("{url} не готов за {seconds} с: {last}", "{url} not ready after {seconds} s: {last}"),
    # ---- scenarios ----------------------------------------------------------------------------------
    "scenarios.rules": ("правил: {n:>2}", "{n:>2} rule(s)"),
    # ---- admin API (answers follow Accept-Language) -------------------------------------------------
    "admin.nul": ("{where}: недопустимый символ NUL (\\u0000) в значении",
                  "{where}: the NUL character (\\u0000) is not allowed in a value"),
    "admin.nul_name": ("{where}: недопустимый символ NUL (\\u0000) в имени",
                       "{where}: the NUL character (\\u0000) is not allowed in a name"),
    "admin.where.param": ("параметр", "parameter"),
    "admin.where.param_of": ("параметр {name}", "parameter {name}"),
    "admin.where.json": ("тело JSON", "JSON body"),
    "admin.where.field": ("поле {name}", "field {name}"),
    "admin.internal": ("внутренняя ошибка", "internal error"),
    "admin.json_body": ("ожидается тело JSON (Content-Type: application/json)",
                        "a JSON body is expected (Content-Type: application/json)"),
    "admin.unstorable": ("значение в запросе не может быть сохранено или найдено (слишком длинное или вне "
                         "допустимого диапазона)",
                         "a value in the request cannot be stored or looked up (too long or out of range)"),
    "admin.token": ("нужен токен администратора", "the admin token is required"),
    "admin.system_missing": ("система {mnemonic} не найдена", "system {mnemonic} not found"),
    "admin.system_invalid": ("неверное описание системы", "invalid system description"),
    "admin.client_id_taken": ("client_entity_id уже занят другой системой",
                              "client_entity_id is already used by another system"),
    "admin.document_missing": ("документ {key} не найден", "document {key} not found"),
    "admin.no_content": ("у документа {local_uid} нет полученного файла",
                         "document {local_uid} has no received file"),
    "admin.delivery_missing": ("доставка {id} не найдена", "delivery {id} not found"),
    "admin.kind_missing": ("вида документа [{code}] нет в справочнике 1.2.643.5.1.13.13.11.1520 v{version}",
                           "document kind [{code}] is not in dictionary 1.2.643.5.1.13.13.11.1520 v{version}"),
    "admin.scenario_too_large": ("сценарий больше предела YAML в {limit} байт",
                                 "the scenario is over the YAML size limit of {limit} bytes"),
    "admin.activate_body": ('ожидается JSON {{"names": [...]}} (и, по желанию, "system") с заголовком '
                            'Content-Type: application/json',
                            'expected JSON {{"names": [...]}} (and, optionally, "system") with the header '
                            'Content-Type: application/json'),
    "admin.conformance_body": ('ожидается тело JSON {{"system": "...", "plan": "mis-basic"}} с заголовком '
                               'Content-Type: application/json',
                               'expected a JSON body {{"system": "...", "plan": "mis-basic"}} with the header '
                               'Content-Type: application/json'),
    "http.400": ("запрос не разобран", "the request cannot be read"),
    "http.404": ("по адресу {path} ничего нет", "nothing at {path}"),
    "http.405": ("метод {method} не поддерживается для {path}", "method {method} is not supported for {path}"),
    "http.413": ("тело запроса больше предела в {limit} МиБ", "the request body is over the limit of {limit} MiB"),
    "http.415": ("тип содержимого {ctype} не поддерживается", "the content type {ctype} is not supported"),
    "http.other": ("ответ HTTP {code}", "HTTP {code}"),
    # seeding documents (POST /_admin/documents)
    "seed.list": ("ожидается непустой JSON-список документов", "a non-empty JSON list of documents is expected"),
    "seed.not_object": ("элемент [{i}]: ожидается объект", "item [{i}]: an object is expected"),
    "seed.missing": ("элемент [{i}]: не указаны поля {fields}", "item [{i}]: missing fields {fields}"),
    "seed.unknown": ("элемент [{i}]: неизвестные поля {fields}", "item [{i}]: unknown fields {fields}"),
    "seed.not_datetime": ("элемент [{i}]: registration_date_time не в формате xs:dateTime",
                          "item [{i}]: registration_date_time is not an xs:dateTime"),
    "seed.no_zone": ("элемент [{i}]: registration_date_time без часового пояса",
                     "item [{i}]: registration_date_time has no time zone"),
    "seed.exists": ("элемент [{i}]: документ {local_uid} уже есть в реестре",
                    "item [{i}]: document {local_uid} is already in the registry"),
    "seed.too_long": ("элемент [{i}]: {field} длиннее {limit} символов",
                      "item [{i}]: {field} is longer than {limit} characters"),
    "seed.emdr_exists": ("элемент [{i}]: emdr_id {emdr_id} уже есть в реестре",
                         "item [{i}]: emdr_id {emdr_id} is already in the registry"),
    "seed.conflict": ("документы не добавлены: один из local_uid/emdr_id ({uids}) уже есть в реестре",
                      "no documents added: one of the local_uid/emdr_id ({uids}) is already in the registry"),
    "seed.repeat": ("элементы [{first}] и [{second}]: один и тот же {field} {value}",
                    "items [{first}] and [{second}]: the same {field} {value}"),
    # systems (admin API and the config file)
    "system.not_object": ("система должна быть объектом JSON/YAML", "a system must be a JSON/YAML object"),
    "system.mnemonic_mismatch": ("mnemonic в теле [{body}] не совпадает с адресом [{path}]",
                                 "mnemonic in the body [{body}] differs from the address [{path}]"),
    "system.unknown_fields": ("неизвестные поля: {fields}", "unknown fields: {fields}"),
    "system.required": ("поле {field} обязательно", "the field {field} is required"),
    "system.organizations": ("organizations: ожидается список OID", "organizations: a list of OIDs is expected"),
    "system.bool": ("{field}: ожидается true или false, получено {value}", "{field}: expected true or false, got {value}"),
    "system.soap_version": ('callback_soap_version: ожидается "1.1" или "1.2", получено {value}',
                            'callback_soap_version: expected "1.1" or "1.2", got {value}'),
    "system.in_config": ("systems[{name}]: {problem}", "systems[{name}]: {problem}"),
    "system.url": ("{field}: {problem}, получено {value}", "{field}: {problem}, got {value}"),
    "url.spaces": ("адрес содержит пробелы или управляющие символы", "the address holds spaces or control characters"),
    "url.unparsable": ("адрес не разбирается как URL", "the address is not a URL"),
    "url.scheme": ("ожидается адрес http:// или https://", "an http:// or https:// address is expected"),
    "url.credentials": ("адрес не должен содержать имя пользователя или пароль",
                        "the address must not hold a user name or password"),
    "url.no_host": ("в адресе нет имени хоста", "the address has no host name"),
    "url.port": ("порт адреса должен быть числом от 1 до 65535", "the port of the address must be from 1 to 65535"),
    # scenarios (admin API and dashboard)
    "scenario.missing": ("сценарий {name} не найден", "scenario {name} not found"),
    "scenario.empty": ("пустое тело: ожидается сценарий YAML или JSON", "empty body: a YAML or JSON scenario is expected"),
    "scenario.invalid": ("сценарий содержит ошибки", "the scenario has errors"),
    "scenario.names": ("names: ожидается список имён сценариев", "names: a list of scenario names is expected"),
    "scenario.unknown": ("нет таких сценариев", "no such scenarios"),
    "scenario.twice": ("сценарий назван дважды", "a scenario is named twice"),
    # conformance runs
    "conformance.system": ("system: укажите мнемонику системы, которую проверяет прогон",
                           "system: give the mnemonic of the system the run tests"),
    "conformance.register_system": ("PUT /_admin/systems/{{mnemonic}} регистрирует систему",
                                    "PUT /_admin/systems/{{mnemonic}} registers it"),
    "conformance.seconds": ("{name}: ожидается число секунд от 0 до {high}, получено {value}",
                            "{name}: expected a number of seconds from 0 to {high}, got {value}"),
    "conformance.timeout_positive": ("step_timeout_s: ожидается число секунд больше 0",
                                     "step_timeout_s: expected a number of seconds above 0"),
    "conformance.busy": ("у системы {system} уже идёт прогон {run}", "system {system} already has run {run} going"),
    "conformance.plan_yaml": ("plan_yaml: ожидается текст плана (YAML)", "plan_yaml: the plan's text (YAML) is expected"),
    "conformance.plan_invalid": ("план не прошёл проверку", "the plan did not pass the check"),
    "conformance.plan_missing": ("план {name} не найден", "plan {name} not found"),
    "conformance.run_missing": ("прогон {run} не найден", "run {run} not found"),
    "conformance.run_over": ("прогон {run} уже завершён", "run {run} is already over"),
    # ---- conformance verdicts (stored with each step as keys and values, rendered when read) ---------
    "judge.secs": ("{n} с", "{n} s"),
    "judge.expected": ("МИС {checks}.", "The MIS {checks}."),
    "judge.expect.ack": ("отвечает на {what} {code} в течение {within}", "answers {what} {code} within {within}"),
    "judge.expect.the_callback": ("обратный вызов", "the callback"),
    "judge.expect.both": ("оба обратных вызова", "both callbacks"),
    "judge.expect.every": ("каждый обратный вызов", "every callback"),
    "judge.expect.2xx": ("кодом HTTP 2xx", "with HTTP 2xx"),
    "judge.expect.any_status": ("любым кодом HTTP", "with any HTTP status"),
    "judge.expect.at_all": ("хоть как-нибудь (любым кодом HTTP)", "at all (any HTTP status)"),
    "judge.expect.foreign": ("отвечает на обратный вызов, предназначенный другому (неизвестный RelatesTo), {code} "
                             "в течение {within}",
                             "answers the callback meant for someone else (unknown RelatesTo) {code} within {within}"),
    "judge.expect.resend": ("повторно отправляет тот же localUid {after} и в пределах времени шага ({timeout})",
                            "re-sends the same localUid {after} and within the step timeout ({timeout})"),
    "judge.expect.after": ("не раньше чем через {low}", "after ≥ {low}"),
    "judge.expect.again": ("ещё раз", "again"),
    "judge.expect.no_resend": ("не отправляет документ повторно", "does not re-send the document"),
    "judge.expect.poll": ("вызывает searchRegistryItem или getRegistryItem в течение {within}",
                          "calls searchRegistryItem or getRegistryItem within {within}"),
    "judge.attempt.http": ("HTTP {status} через {took}", "HTTP {status} after {took}"),
    "judge.attempt.timeout": ("ответа нет за время ожидания отправителя", "no answer within the sender's timeout"),
    "judge.attempt.refused": ("в соединении отказано (по адресу обратного вызова никто не слушает)",
                              "connection refused (nothing listens at the callback URL)"),
    "judge.attempt.closed": ("соединение закрыто без ответа HTTP через {took}",
                             "the connection closed without an HTTP answer after {took}"),
    "judge.attempt.none": ("ответа HTTP нет через {took}", "no HTTP answer after {took}"),
    "judge.the_callback": ("обратный вызов", "the callback"),
    "judge.callback_n": ("обратный вызов {n}", "callback {n}"),
    "judge.not_answered_yet": ("на {label} ответа пока нет", "{label} not answered yet"),
    "judge.answered": ("на {label} получен ответ {attempt}", "answered {label} with {attempt}"),
    "judge.not_answered": ("на {label} нет ответа: {attempt}", "did not answer {label}: {attempt}"),
    "judge.no_callback_sync": ("обратный вызов не отправлялся: на запрос синхронно ответили {codes}",
                               "no callback was sent: the request was answered {codes} synchronously"),
    "judge.no_callback_processing": ("обратного вызова пока нет: документ ещё обрабатывается",
                                     "no callback yet: the document is still being processed"),
    "judge.no_callback_yet": ("обратный вызов ещё не отправлен", "no callback sent yet"),
    "judge.foreign_waiting": ("на чужой обратный вызов ответа пока нет", "the foreign callback was not answered yet"),
    "judge.foreign_answered": ("на чужой обратный вызов получен ответ {attempt}",
                               "answered the foreign callback with {attempt}"),
    "judge.foreign_not_answered": ("на чужой обратный вызов нет ответа: {attempt}",
                                   "did not answer the foreign callback: {attempt}"),
    "judge.want_after": ("ожидался тот же localUid не раньше чем через {low}", "expected the same localUid after ≥ {low}"),
    "judge.want": ("ожидался тот же localUid", "expected the same localUid"),
    "judge.no_resend_in_time": ("документ не отправлен повторно за {timeout}; {want}",
                                "did not re-send the document within {timeout}; {want}"),
    "judge.no_resend_yet": ("повторной отправки пока нет", "no re-send yet"),
    "judge.resent_new_uid": ("документ отправлен повторно с новым localUid {uid} через {delay}; {want}",
                             "re-sent after {delay} with a new localUid {uid}; {want}"),
    "judge.resent_too_soon": ("тот же localUid отправлен повторно через {delay}; {want}",
                              "re-sent the same localUid after {delay}; {want}"),
    "judge.resent": ("тот же localUid отправлен повторно через {delay}", "re-sent the same localUid after {delay}"),
    "judge.with_same_uid": ("с тем же localUid", "with the same localUid"),
    "judge.with_new_uid": ("с новым localUid {uid}", "with a new localUid {uid}"),
    "judge.resent_unwanted": ("документ отправлен повторно {how} через {delay}", "re-sent the document after {delay} {how}"),
    "judge.not_resent": ("документ повторно не отправлялся", "did not re-send the document"),
    "judge.poll_search": ("; в ответе документов: {n}", "; the answer listed {n} document(s)"),
    "judge.poll_get": (" для {emdr_id}; ответ — {status}", " for {emdr_id}; answered {status}"),
    "judge.sync.success": ("успех", "success"),
    "judge.sync.error": ("ошибка", "error"),
    "judge.polled": ("вызван {operation} через {delay} после отправки документа{found}",
                     "called {operation} {delay} after the document was sent{found}"),
    "judge.not_polled": ("за {timeout} не было вызовов searchRegistryItem или getRegistryItem "
                         "(обратный вызов для этого документа не отправлялся)",
                         "did not call searchRegistryItem or getRegistryItem within {timeout} "
                         "(no callback was sent for this document)"),
    "judge.doc.registered": ("Документ зарегистрирован как {emdr_id}", "Document: registered as {emdr_id}"),
    "judge.doc.rejected": ("Документ отклонён с {codes}", "Document: rejected with {codes}"),
    "judge.doc.pending": ("Документ ещё обрабатывается.", "Document: still being processed."),
    "judge.doc.bare": ("{outcome}.", "{outcome}."),
    "judge.doc.forced": (" (такой исход задал шаг)", " (the step set this outcome)"),
    "judge.doc.more": (" и ещё {n}", " and {n} more"),
    "judge.doc.finding": ("{code}: {message} ({layer})", "{code}: {message} ({layer})"),
    "judge.doc.findings": ("{outcome}{forced}; проверка нашла {head}{more}.",
                           "{outcome}{forced}; validation found {head}{more}."),
    "judge.doc.clean": ("{outcome}; проверка ничего не нашла (выполнялись {ran}).",
                        "{outcome}; validation found nothing ({ran} ran)."),
    "judge.no_document": ("Документ не получен: система {system} не зарегистрировала новый localUid за {timeout}.",
                          "No document received: the system {system} registered no new localUid within {timeout}."),
    "judge.not_reached": ("Документ не получен: до шага не дошло, шаг {step} не получил документа.",
                          "No document received: not reached, step {step} got no document."),
    # ---- mock-remd conformance run ----------------------------------------------------------------------
    "conformance.state.pending": ("ожидает", "pending"),
    "conformance.state.running": ("выполняется", "running"),
    "conformance.state.passed": ("пройден", "passed"),
    "conformance.state.failed": ("НЕ ПРОЙДЕН", "FAILED"),
    "conformance.cli.bad_url": ("--url: нужен адрес, начинающийся с http:// или https://, а указано {url}",
                                "--url must start with http:// or https://, got {url}"),
    "conformance.cli.plan_unreadable": ("файл плана {path} не читается", "cannot read the plan file {path}"),
    "conformance.cli.negative": ("{option}: нужно 0 секунд или больше, а указано {value}",
                                 "{option} must be 0 or more seconds, got {value}"),
    "conformance.cli.refused": ("сервер отказал в прогоне (HTTP {status}): {error}",
                                "the server refused the run (HTTP {status}): {error}"),
    "conformance.cli.unreachable": ("mock-remd по адресу {url} недоступен (запущен ли он? проверьте: mock-remd wait {url})",
                                    "cannot reach the mock at {url} (is it running? try: mock-remd wait {url})"),
    "conformance.cli.started": ("прогон {run} для системы {system}, план {plan}: шагов {total} (время шага {timeout} с, "
                                "повтор через {retry} с); жду, пока МИС зарегистрирует документы",
                                "conformance run {run} for system {system}, plan {plan}: {total} steps (step timeout "
                                "{timeout} s, retry after {retry} s); waiting for the MIS to register documents"),
    "conformance.cli.failed_step": ("{head} — наблюдалось: {observed} Ожидалось: {expected}",
                                    "{head} — observed: {observed} Expected: {expected}"),
    "conformance.cli.lost": ("mock-remd по адресу {url} пропал, пока шёл прогон {run}",
                             "lost the mock at {url} while run {run} was active"),
    "conformance.cli.interrupted": ("прервано: прогон {run} отменён", "interrupted: run {run} cancelled"),
    "conformance.cli.cancelled": ("прогон {run} отменён (до этого пройдено шагов: {passed} из {total})",
                                  "run {run} was cancelled ({passed}/{total} steps passed before)"),
    "conformance.cli.passed": ("ПРОЙДЕН", "PASSED"),
    "conformance.cli.failed": ("НЕ ПРОЙДЕН", "FAILED"),
    "conformance.cli.summary": ("{verdict}: пройдено {passed}/{total} шагов (прогон {run}, {url})",
                                "{verdict}: {passed}/{total} steps passed (run {run}, {url})"),
    "conformance.cli.junit_http": ("отчёт JUnit не получен (HTTP {status})", "could not fetch the JUnit report (HTTP {status})"),
    "conformance.cli.junit_unreachable": ("mock-remd по адресу {url} недоступен: отчёт JUnit не получен",
                                          "cannot reach the mock at {url} for the JUnit report"),
    "conformance.junit.text": ("{title}\nожидалось: {expected}\nнаблюдалось: {observed}",
                               "{title}\nexpected: {expected}\nobserved: {observed}"),
    "conformance.junit.skipped": ("не оценён: {why}", "not judged: {why}"),
    "conformance.junit.cancelled": ("прогон отменён", "the run was cancelled"),
    "conformance.junit.state": ("шаг {state}", "step {state}"),
    "cli.internal": ("внутренняя ошибка (инцидент {id}); подробности в {log}",
                     "internal error (incident {id}); details in {log}"),
    # ---- details hint -------------------------------------------------------------------------------
    "hint.verbose": ("подробности: --verbose", "details: --verbose"),
}


@dataclass(frozen=True)
class Text:
    """A catalogue message not yet put into a language: made where the refusal happens, rendered where
    the user's language is known (an admin answer, a dashboard page). ``str()`` gives Russian."""

    key: str
    values: tuple[tuple[str, object], ...] = ()

    def render(self, lang: str) -> str:
        """The message in ``lang``; values that are :class:`Text` themselves are rendered too, and a list value
        is its items rendered and joined with ``; ``."""
        return say(lang, self.key, **{k: _value(lang, v) for k, v in self.values})

    def as_dict(self) -> dict[str, Any]:
        """The message as JSON data to store and render later: ``{"key", "values"}`` (nested ones too)."""
        return {"key": self.key, "values": {k: _plain(v) for k, v in self.values}}

    @classmethod
    def from_dict(cls, data: Any) -> Text | None:
        """A message stored with :meth:`as_dict`; None when ``data`` is not one or names a key (or a nested
        key) this version's catalogue does not have (the caller falls back to what else it stored)."""
        if not isinstance(data, dict) or data.get("key") not in MESSAGES or not isinstance(data.get("values", {}), dict):
            return None
        values: list[tuple[str, object]] = []
        for name, value in data.get("values", {}).items():
            loaded = _loaded(value)
            if loaded is _BROKEN:
                return None
            values.append((name, loaded))
        return cls(data["key"], tuple(values))

    def __str__(self) -> str:
        return self.render(DEFAULT_LANG)


_BROKEN = object()


def _value(lang: str, value: object) -> object:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_value(lang, v)) for v in value)
    return render(lang, value)


def _plain(value: object) -> object:
    if isinstance(value, Text):
        return value.as_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _loaded(value: object) -> object:
    """A stored value back: a stored message becomes a :class:`Text` again (``_BROKEN`` when unknown)."""
    if isinstance(value, dict):
        loaded = Text.from_dict(value)
        return _BROKEN if loaded is None else loaded
    if isinstance(value, list):
        items = [_loaded(v) for v in value]
        return _BROKEN if any(v is _BROKEN for v in items) else items
    return value


class SentenceShapes:
    """Sentences of known shapes and their rendering in another language: ``(regex, template)`` pairs, the
    regex's named groups filled into the template; the first pattern matching the whole sentence wins."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._shapes = tuple((re.compile(pattern), template) for pattern, template in pairs)

    def translate(self, sentence: str) -> str:
        """``sentence`` rendered by the first shape it matches; unchanged when it matches none."""
        for pattern, template in self._shapes:
            found = pattern.fullmatch(sentence)
            if found:
                return template.format(**found.groupdict())
        return sentence


def text(key: str, /, **values: object) -> Text:
    """The message ``key`` with ``values``, to be rendered later (:meth:`Text.render`)."""
    if key not in MESSAGES:
        raise KeyError(key)
    return Text(key, tuple(values.items()))


def render(lang: str, value: Any) -> Any:
    """``value`` with every :class:`Text` in it (also inside dicts and lists) rendered in ``lang``; so is an
    object of ours that renders itself (``render(lang)``, e.g. a lint issue)."""
    if isinstance(value, Text):
        return value.render(lang)
    if hasattr(type(value), "render") and not isinstance(value, type) and type(value).__module__.startswith("mock_remd."):
        return value.render(lang)
    if isinstance(value, dict):
        return {k: render(lang, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(lang, v) for v in value]
    return value


def pick_lang(value: str | None) -> str:
    """``ru`` or ``en`` from a ``--lang`` value or an ``Accept-Language`` header (Russian by default)."""
    if not value:
        return DEFAULT_LANG
    for part in value.split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGS:
            return code
        if code == "*":
            break
    return DEFAULT_LANG


def say(lang: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in."""
    ru, en = MESSAGES[key]
    return (en if lang == "en" else ru).format(**values)


def count(lang: str, key: str, n: int) -> str:
    """``n`` with the noun ``count.KEY`` in the grammatical number ``n`` takes in ``lang`` (1 ошибка, 5 ошибок)."""
    forms = say(lang, f"count.{key}", n=n).split("|")
    if lang == "en":
        return forms[0] if n == 1 else forms[1]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def skip_reason(lang: str, cause: str, reason: str = "") -> str:
    """Why a layer did not run (and how to make it run), in ``lang``; the layer's own text when unknown."""
    key = f"skip.{cause}"
    if key in MESSAGES:
        return say(lang, key)
    return reason or say(lang, "skip.other", reason=cause or "?")


def yaml_what(exc: BaseException) -> Text:
    """What is wrong with a refused YAML text (``yamlsafe.YamlSyntaxError`` / ``YamlLimitError``), without the
    position, as a :class:`Text` to render in the reader's language."""
    key, values = getattr(exc, "key", ""), getattr(exc, "values", {})
    return text(key, **values) if key in MESSAGES else text("yaml.what.other")


def yaml_text(lang: str, exc: BaseException, *, position: bool = True) -> str:
    """One sentence for a refused YAML text (``yamlsafe.YamlSyntaxError`` / ``YamlLimitError``: a catalogue
    key with values, line and column), with the position unless ``position`` is false."""
    key, values = getattr(exc, "key", ""), getattr(exc, "values", {})
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    text = say(lang, key, **values) if key in MESSAGES else say(lang, "yaml.what.other")
    if not key.startswith("yaml.what."):  # a limit: the line only
        return say(lang, "yaml.at_line", text=text, line=line) if position and line is not None else text
    if not position:
        return text
    if line is None:
        return say(lang, "yaml.syntax_nowhere", what=text)
    return say(lang, "yaml.syntax", what=text, line=line, column=column or 1)


def xml_refusal(lang: str, exc: BaseException) -> str:
    """One sentence for XML refused before parsing (``xmlsafe.XmlTooLargeError`` carries ``size`` and
    ``limit``; ``UnsafeXmlError`` is a DTD or entities)."""
    if hasattr(exc, "size") and hasattr(exc, "limit"):
        return say(lang, "xml.too_large", size=exc.size, limit=exc.limit)
    return say(lang, "xml.doctype")


#: libxml2's wording -> the catalogue's sentence for it (a user never sees libxml2's English or its parser options)
_XML_SYNTAX_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("Excessive depth", "xml.syntax.depth"),
    ("Opening and ending tag mismatch", "xml.syntax.tag_mismatch"),
    ("Premature end of data", "xml.syntax.cut_short"),
    ("EndTag: '</' not found", "xml.syntax.cut_short"),
    ("Document is empty", "xml.syntax.empty"),
    ("Start tag expected", "xml.syntax.no_start_tag"),
    ("Extra content at the end", "xml.syntax.extra_content"),
    ("Input is not proper UTF-8", "xml.syntax.not_utf8"),
    ("not defined", "xml.syntax.prefix"),
    ("xmlParseEntityRef", "xml.syntax.ampersand"),
    ("AttValue", "xml.syntax.unquoted"),
    ("Attribute", "xml.syntax.attributes"),
)


def xml_syntax(lang: str, exc: BaseException | None) -> str:
    """One sentence for a not-well-formed input (``lxml.etree.XMLSyntaxError``, or None when unknown):
    what is wrong and where, never libxml2's own text."""
    msg = str(getattr(exc, "msg", "") or exc)
    what = say(lang, next((key for pattern, key in _XML_SYNTAX_PROBLEMS if pattern in msg), "xml.syntax.other"))
    line, column = getattr(exc, "lineno", None), getattr(exc, "offset", None)
    if line and column:
        return say(lang, "xml.syntax.at_line_column", what=what, line=line, column=column)
    return say(lang, "xml.syntax.at_line", what=what, line=line) if line else what


def os_reason(lang: str, exc: OSError) -> str:
    """Why a file operation failed: the operating system's words (``strerror``), else a catalogue sentence
    (never the exception's class name or text)."""
    return exc.strerror or say(lang, "file.io_error")


def where_of(url: str) -> str:
    """``host:port`` of a URL (the port made explicit), for messages."""
    try:
        parts = urlsplit(url if "//" in url else "//" + url)
        host = parts.hostname or url
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _chain(exc: BaseException, depth: int = 0) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (causes, contexts, urllib3 reasons, exception args)."""
    if depth > 6:
        return []
    found = [exc]
    inner: list[object] = [exc.__cause__, exc.__context__, getattr(exc, "reason", None), *getattr(exc, "args", ())]
    for item in inner:
        if isinstance(item, BaseException) and item is not exc:
            found.extend(_chain(item, depth + 1))
    return found


def network_key(exc: BaseException) -> str:
    """The message key describing a network failure ``exc`` (``net.*``)."""
    chain = _chain(exc)
    names = " ".join(type(e).__name__ for e in chain)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return "net.refused"
    if any(isinstance(e, socket.gaierror) for e in chain) or "nameresolution" in names.lower() \
            or "name or service not known" in text or "failed to resolve" in text:
        return "net.no_host"
    if "ssl" in names.lower():
        return "net.tls"
    if any(isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for e in chain) \
            or "remotedisconnected" in names.lower() or "badstatusline" in names.lower() \
            or "connection aborted" in text or "protocolerror" in names.lower():
        return "net.dropped"
    if any(isinstance(e, (TimeoutError, socket.timeout)) for e in chain) or "timeout" in names.lower() \
            or "timed out" in text:
        return "net.timeout"
    if "no route to host" in text or "network is unreachable" in text:
        return "net.unreachable"
    return "net.failed"


def network_failure(lang: str, exc: BaseException, url: str) -> str:
    """One sentence about a failed HTTP exchange with ``url`` (no exception text)."""
    key = network_key(exc)
    parts = urlsplit(url if "//" in url else "//" + url)
    return say(lang, key, where=where_of(url), host=parts.hostname or url)


def database_failure(lang: str, exc: BaseException) -> str:
    """One sentence (the reason part) about a database that cannot be reached."""
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if "password authentication failed" in text or "authentication" in text:
        return say(lang, "net.db_auth")
    if "does not exist" in text and "database" in text:
        return say(lang, "net.db_missing")
    if "connection refused" in text:
        return say(lang, "net.db_refused")
    return say(lang, "net.db_other")
