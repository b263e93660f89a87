"""Texts of validation findings, of the reasons a layer did not run, and of the free-text parts of
registry answers (a version or link refused, a getDocumentFile answer unusable): one template per sentence.

:mod:`mock_remd.catalog.errors` keeps one template per classifier code, and its ``message`` falls back to
the code's description when a value is missing (an answer must always carry some text). The sentences
here share codes (dozens are ``VALIDATION_ERROR``, a dozen a signature code), so they are keyed by what
they say, and a missing value is a bug of ours that must show: :func:`text` raises ``KeyError``. Every
such text is one of these templates with its named values filled in. Russian only, like the registry's
answers. A caller on a hot path binds ``FINDINGS[key].format`` (or a template without fields) at import.
"""

from __future__ import annotations

import string

#: key -> ``str.format`` template
FINDINGS: dict[str, str] = {
    # ---- why a layer did not run (report.py recognises the cause from these words) ------------------
    "skip.not_xml": "документ не разобран как XML",
    "skip.not_cda": "корневой элемент не ClinicalDocument в пространстве имён urn:hl7-org:v3",
    "skip.no_request": "нет запроса registerDocument для сверки",
    # ---- layer cross: the request against the document ---------------------------------------------
    "cross.local_uid": (
        "Уникальный идентификатор документа в ЭМД [{document}] отличается от уникального идентификатора "
        "документа в запросе на регистрацию сведений [{request}]"
    ),
    "cross.patient_snils": (
        "СНИЛС пациента в ЭМД [{document}] отличается от СНИЛС пациента в запросе на регистрацию сведений [{request}]"
    ),
    "cross.patient_family": (
        "Фамилия пациента в ЭМД [{document}] отличается от фамилии пациента в запросе на регистрацию сведений "
        "[{request}]"
    ),
    "cross.patient_given": (
        "Имя пациента в ЭМД [{document}] отличается от имени пациента в запросе на регистрацию сведений [{request}]"
    ),
    "cross.patient_patronymic": (
        "Отчество пациента в ЭМД [{document}] отличается от отчества пациента в запросе на регистрацию сведений "
        "[{request}]"
    ),
    "cross.patient_birth_date": (
        "Дата рождения пациента в ЭМД [{document}] отличается от даты рождения пациента в запросе на регистрацию "
        "сведений [{request}]"
    ),
    "cross.patient_gender": (
        "Пол пациента в ЭМД [{document}] отличается от пола пациента в запросе на регистрацию сведений [{request}]"
    ),
    "cross.organization": (
        "Организация в ЭМД [{document}] отличается от организации в запросе на регистрацию сведений [{request}]"
    ),
    "cross.department": (
        "Подразделение [{department}] в запросе на регистрацию сведений не относится к организации [{organization}]"
    ),
    "cross.creation_date": (
        "Дата создания документа в ЭМД [{document}] отличается от даты создания документа в запросе на регистрацию "
        "сведений [{request}]"
    ),
    "cross.version_set_id": (
        "Идентификатор набора версий (setId) предыдущей версии в ЭМД [{parent}] отличается от идентификатора "
        "набора версий документа [{document}]"
    ),
    "cross.version_number": (
        "Номер версии документа в ЭМД [{number}] должен быть больше номера предыдущей версии [{parent}] "
        "(relatedDocument)"
    ),
    "cross.version_parent": (
        "Идентификатор предыдущей версии документа в ЭМД [{document}] отличается от идентификатора предыдущей "
        "версии документа в запросе на регистрацию сведений [{request}]"
    ),
    "cross.version_association": (
        "Связь с предыдущей версией документа в ЭМД (relatedDocument) не указана в запросе на регистрацию "
        "сведений (associations)"
    ),
    "cross.version_related": (
        "Связь с предыдущей версией документа в запросе на регистрацию сведений [{target}] не указана в ЭМД "
        "(relatedDocument)"
    ),
    "cross.version_first": "Номер версии документа в ЭМД [1] не может быть номером новой версии",
    # ---- layer signatures: the CMS signatures of the request ---------------------------------------
    "skip.signatures_off": "проверка подписей отключена (MOCK_REMD_SIGNATURES=off)",
    "skip.signatures_no_request": (
        "подписи передаются в запросе на регистрацию: без запроса (--request) они не проверяются"
    ),
    "sig.label_person": "ЭП сотрудника (СНИЛС {snils})",
    "sig.label_person_number": "ЭП сотрудника №{number}",
    "sig.label_org": "ЭП МО",
    #: a finding about one signature: whose it is, then what is wrong
    "sig.of_entry": "{label}: {detail}",
    "sig.missing": "подпись отсутствует",
    "sig.org_occurrence": "{message}: {detail}",
    "sig.org_required": "подпись МО (orgSignature) обязательна, но отсутствует",
    "sig.org_unexpected": "подпись МО (orgSignature) передана, но вид документов её не предусматривает",
    "sig.duplicate": "подпись совпадает с подписью «{label}» ({path})",
    "sig.inconsistent_digests": "{description} [{parts}]",
    "sig.digest_detail": "в ЭП {signature}, у документа {document} (ГОСТ Р 34.11-2012, {bits} бит)",
    "sig.crypto_failed": "подпись не верна: Validation failed for the target: serial {serial:x}, subject {who}",
    "sig.no_signed_attrs": (
        "в подписи отсутствуют подписанные атрибуты с хеш-суммой документа (messageDigest): требуется CAdES-BES"
    ),
    "sig.no_signing_time": "В подписи отсутствует атрибут «Дата и время создания»",
    "sig.unknown_algorithm": "{description}: {problem}",
    "sig.whose_org": "МО",
    "sig.whose_person": "сотрудника",
    "sig.cert_not_yet_valid": (
        "Сертификат {whose} недействителен на дату создания документа {created}: срок действия начинается {not_before}"
    ),
    "sig.cert_expired": (
        "Сертификат {whose} недействителен на дату создания документа {created}: срок действия истёк {not_after}"
    ),
    "sig.org_cert_not_legal_entity": (
        "Несоответствие данных подписанта в запросе и в сертификате. Сертификат подписи МО выдан не юридическому "
        "лицу: в нём нет ОГРН и ИНН ЮЛ (владелец [{owner}])"
    ),
    "sig.snils_mismatch": (
        "Несоответствие данных подписанта в запросе и в сертификате. СНИЛС [{request}] в метаданных и "
        "[{certificate}] в сертификате"
    ),
    "sig.absent": "отсутствует",
    "sig.surname_mismatch": (
        "Несоответствие данных подписанта в запросе и в сертификате. Фамилия [{request}] в метаданных и "
        "[{certificate}] в сертификате. СНИЛС [{snils}]"
    ),
    "sig.given_mismatch": (
        "Несоответствие данных подписанта в запросе и в сертификате. Имя и отчество [{request}] в метаданных и "
        "[{certificate}] в сертификате. СНИЛС [{snils}]"
    ),
    "sig.no_chain": "{description}. Издатель сертификата: [{issuer}]",
    "sig.ca_not_valid": "сертификат УЦ [{ca}] недействителен на дату создания документа",
    "sig.chain_link": "подпись сертификата [{child}] не проверяется ключом УЦ [{parent}]",
    # ---- one CMS signature taken apart (validation/signatures/cms.py) -------------------------------
    "cms.empty": "данные подписи пусты",
    "cms.bad_char": "недопустимый символ «{char}» в позиции {position}",
    "cms.bad_padding": "неверная длина или дополнение «=»",
    "cms.not_base64": "данные подписи не являются корректной строкой base64 ({why})",
    "cms.trailing_bytes": "после структуры ASN.1 остались лишние данные ({count} байт)",
    "cms.pem": "передан PEM-текст вместо DER: в signature/data ожидается base64 от DER",
    "cms.double_base64": "после декодирования base64 получен снова текст base64 (подпись закодирована дважды)",
    "cms.not_asn1": "данные подписи не являются корректной структурой ASN.1 (BER/DER): тег или длина элемента повреждены",
    "cms.unread": "не прочитан {what}",
    "cms.unread_because": "не прочитан {what}: {reason}",
    "cms.not_content_info": "подпись не является контейнером CMS (ContentInfo)",
    "cms.not_signed_data": "тип содержимого CMS [{content_type}] не является SignedData",
    "cms.attached": "подпись присоединённая (документ вложен в CMS), требуется открепленная подпись CAdES-BES",
    "cms.no_signer": "в контейнере CMS нет ни одного подписанта (SignerInfo)",
    "cms.many_signers": "в контейнере ЭП указано {count} подписанта, допускается один",
    "cms.no_certificate": "в контейнере ЭП нет ни одного сертификата",
    "cms.certificate_unread": "не прочитан сертификат №{number} из контейнера ЭП: {part}",
    "cms.signer_certificate_missing": (
        "сертификат подписанта (по SignerIdentifier) не найден среди сертификатов контейнера"
    ),
    # the parts named by cms.unread / cms.unread_because
    "cms.part.signed_data": "контейнер SignedData",
    "cms.part.signer_info": "блок подписанта (SignerInfo)",
    "cms.part.sid": "идентификатор подписанта (sid)",
    "cms.part.signed_attrs": "набор подписанных атрибутов (signedAttrs)",
    "cms.part.message_digest": "подписанный атрибут messageDigest",
    "cms.part.signing_time": "подписанный атрибут signingTime",
    "cms.part.digest_algorithm": "алгоритм хеширования подписанта",
    "cms.part.signature_algorithm": "алгоритм подписи подписанта",
    "cms.part.signature": "значение подписи (signature)",
    "cms.digest_not_gost": "алгоритм хеширования [{oid}] не является ГОСТ Р 34.11-2012",
    "cms.signature_not_gost": "алгоритм подписи [{oid}] не является ГОСТ Р 34.10-2012",
    "cms.key_not_gost": "алгоритм ключа сертификата [{oid}] не является ГОСТ Р 34.10-2012",
    "cms.lengths_differ": "длины алгоритмов не согласованы: хеш {digest} бит, подпись {signature} бит, ключ {key} бит",
    # ---- the message signature wsse:Security (validation/signatures/wsse.py) ------------------------
    "wsse.finding": "Подпись сообщения (wsse:Security): {detail}",
    "wsse.not_local_reference": "ссылка [{uri}] не является ссылкой на элемент сообщения (#id)",
    "wsse.element_missing": "элемент [{uri}] не найден в сообщении",
    "wsse.digest_not_gost": "алгоритм хеширования [{algorithm}] не является ГОСТ Р 34.11-2012",
    "wsse.transform": "преобразование [{algorithm}] не поддерживается",
    "wsse.no_signature": "в заголовке wsse:Security нет элемента ds:Signature",
    "wsse.no_signed_info": "в ds:Signature нет ds:SignedInfo",
    "wsse.c14n": "метод канонизации должен быть {algorithm}",
    "wsse.signature_not_gost": "алгоритм подписи [{algorithm}] не является ГОСТ Р 34.10-2012",
    "wsse.no_reference": "ds:SignedInfo не содержит ни одной ds:Reference",
    "wsse.digest_differs": "хеш-сумма элемента [{uri}] не совпадает с DigestValue",
    "wsse.no_certificate": "сертификат подписи (wsse:BinarySecurityToken) не найден или повреждён",
    "wsse.bad_key": "подпись не проверяется: открытый ключ сертификата не является ключом ГОСТ Р 34.10-2012 или не читается",
    "wsse.bad_value": "подпись не проверяется: ds:SignatureValue не является корректной строкой base64",
    "wsse.wrong_value": "значение подписи SignatureValue не верно",
    # ---- header rules and the project's kind rules (validation/cda/checker.py, header_rules.py) -----
    "cda.finding": "Ошибка валидации СЭМД: {sentence}. Путь: {path}",
    "cda.count": "Элемент {label} должен иметь {count} {name}",
    "cda.count.at_most_one": "не более 1 элемента",
    "cda.count.at_least_one": "не менее 1 элемента",
    "cda.count.one": "{n} элемент",
    "cda.count.many": "{n} элемента",
    #: the word that joins the last two of several allowed values
    "cda.or": " или ",
    "cda.no_null_flavor": "Элемент {label} не должен иметь атрибут @nullFlavor",
    "cda.attr_equals": "Элемент {label} должен иметь значение атрибута @{name} равное '{expected}'",
    "cda.attr_in": "Элемент {label} должен иметь значение атрибута @{name} равное {allowed}",
    "cda.attr_nonempty": "Элемент {label} должен иметь не пустое значение атрибута @{name}",
    "cda.attr_present": "Элемент {label} должен иметь атрибут @{name}",
    "cda.attr_matches": "Элемент {label} должен иметь синтаксически корректное значение атрибута @{name}, {meaning}",
    "cda.text_nonempty": "Элемент {label} должен иметь не пустое значение",
    "cda.words.mis_id": 'оканчивающееся на ".{suffix}" ("OID_медицинской_организации.100.НомерМИС.НомерЭкзМИС.{suffix}")',
    "cda.timestamp": (
        "Элемент {label} должен иметь значение атрибута @value в формате YYYYMMDD, YYYYMMDDHHmm+ZZZZ или "
        "YYYYMMDDHHmmSS+ZZZZ"
    ),
    "cda.snils_shape": (
        "Элемент {label} должен иметь синтаксически корректное значение атрибута @extension, соответствующее СНИЛС: "
        "11 цифр, допускается группировка 3+3+3+2 через пробел или тире"
    ),
    "cda.snils_checksum": (
        "Элемент {label} должен иметь значение атрибута @extension с верным контрольным числом СНИЛС [{value}]"
    ),
    "cda.postal_code": "Элемент {label}/postalCode должен иметь значение из 6 цифр без разделителей",
    "cda.same_root": "Значения атрибута @root элементов {document}/id и {document}/setId должны различаться",
    "cda.ministry_recipient": (
        "Элемент {document} должен иметь 1 элемент informationRecipient, получатель которого — Минздрав России "
        "(receivedOrganization/id/@root='{oid}')"
    ),
    # ---- layer kind: which kind the document is ---------------------------------------------------
    "kind.unknown": "Вид документов [{kind}] отсутствует в справочнике {dictionary}",
    "kind.undetermined": "Вид документа не определён: templateId [{template_ids}] не найден в справочнике {dictionary}",
    "kind.edition": (
        "templateId [{template_ids}] не относится к действующей редакции; по типу документа [{type_1522}] (НСИ 1522) "
        "проверен как вид [{kind}] ({name})"
    ),
    "kind.mismatch": (
        "Вид документа в ЭМД [{document}] отличается от вида документа в запросе на регистрацию сведений [{request}]"
    ),
    "kind.template_mismatch": (
        "Вид документа в ЭМД (templateId [{template_id}]) отличается от вида документа в запросе на регистрацию "
        "сведений [{request}]"
    ),
    "kind.code": (
        "Элемент ClinicalDocument/code должен иметь значение атрибута @code равное '{expected}' для вида документов "
        "[{kind}]"
    ),
    # ---- layer xml: the bytes as a document ---------------------------------------------------------
    "xml.empty": "Ошибка валидации СЭМД: файл документа пуст",
    "xml.refused": "Ошибка валидации СЭМД: {reason}",
    "xml.not_well_formed": "Ошибка валидации СЭМД: Переданный файл не является валидным XML файлом: {problem}",
    "xml.not_cda_root": "Ошибка валидации СЭМД: корневой элемент [{name}] не является ClinicalDocument",
    "xml.namespace": "Ошибка валидации СЭМД: пространство имён корневого элемента [{namespace}] должно быть {expected}",
    "xml.not_utf8": "Ошибка валидации СЭМД: документ не в кодировке UTF-8 (байт {position})",
    # ---- layers xsd and schematron: the kind's official pack --------------------------------------
    "skip.no_packs": "каталог официальных пакетов не задан (--packs / MOCK_REMD_PACKS_DIR)",
    "skip.no_kind_for_xsd": "вид СЭМД не определён: нечем выбрать XSD-схему",
    "skip.no_xsd": "нет XSD-схемы для вида СЭМД {kind} в {packs_dir}",
    "skip.no_kind_for_schematron": "вид СЭМД не определён: нечем выбрать схематрон",
    "skip.no_schematron": "нет схематрона (.sch) для вида СЭМД {kind} в {packs_dir}",
    "schematron.unsupported": "Схематрон вида СЭМД {kind} не поддерживается (инцидент {incident})",
    "schematron.transform_error": "Ошибка при трансформации СЭМД для проверки (Schematron)",
    # ---- layer nsi: coded values against the FNSI dictionaries -------------------------------------
    "skip.no_nsi_dir": "справочники НСИ не загружены: каталог не задан (MOCK_REMD_NSI_DIR, --nsi)",
    "skip.nsi_dir_missing": "справочники НСИ не загружены: нет каталога {nsi_dir}",
    "skip.nsi_dir_empty": (
        "справочники НСИ не загружены: в каталоге {nsi_dir} нет справочников (mock-remd nsi import FILE…)"
    ),
    "nsi.skipped_by_override": "пропущен настройкой (overrides: skip)",
    "nsi.not_loaded": "справочник НСИ не загружен",
    "nsi.not_fnsi": "не справочник ФНСИ",
    #: appended to INVALID_DICTIONARY_VERSION (catalog/errors.py): the versions that are loaded
    "nsi.required_versions": "{message}. Требуется: [{versions}]",
    "nsi.code_system_name": (
        "Ошибка валидации значения: Справочник OID [{oid}], версия [{version}]. Наименование справочника "
        "(codeSystemName) [{name}] не соответствует наименованию в НСИ [{expected}]"
    ),
    # ---- layer xsd: one Xerces-style message (validation/xsd_messages.py) -------------------------
    "xsd.finding": "Ошибка валидации СЭМД: {code}: {text}{where}",
    "xsd.line": " (строка {line})",
    # ---- layer schematron: one failed assert or report (validation/schematron/runner.py) -----------
    "schematron.finding": "Ошибка валидации Schematron: {text} Путь: {path}",
    # ---- the pipeline ---------------------------------------------------------------------------------
    "skip.disabled": "слой отключён настройкой MOCK_REMD_VALIDATION",
    "skip.after_not_cda": "корневой элемент не ClinicalDocument (urn:hl7-org:v3)",
    #: a fault of the server met by a layer, as /ready lists it: our sentence and the incident id
    "pipeline.server_fault": "{message} (инцидент {incident})",
    # ---- where the header layer's presence rules come from (details "required_by") ----------------
    "source.pack": "официальный пакет: {schematron}",
    "source.pack_of_kind": "официальный пакет вида {kind}: {name}",
    "source.published": "{source}, вид {kind}",
    # ---- a document's life: the reasons of CANT_REG_VERSION and CAN_NOT_ASSOCIATE (core/lifecycle.py)
    "link.self": "документ не может быть связан сам с собой",
    "link.unknown_type": "тип связи [{type}] не найден в справочнике типов связей (1.2.643.5.1.13.13.99.2.122)",
    "link.not_registered": "документ [{target}] не зарегистрирован в РЭМД",
    "link.other_organization": "документ [{target}] зарегистрирован другой организацией [{organization}]",
    "link.other_patient": "документ [{target}] относится к другому пациенту",
    "version.not_found": "предыдущая версия документа [{target}] не найдена в РЭМД",
    "version.no_link": "для версии [{number}] документа не указана связь с предыдущей версией",
    "version.several_parents": "в запросе указано более одной предыдущей версии документа",
    "version.other_organization": "предыдущая версия документа [{target}] зарегистрирована другой организацией [{organization}]",
    "version.other_kind": "вид документа [{kind}] отличается от вида предыдущей версии [{previous}]",
    "version.other_patient": "СНИЛС пациента [{patient}] отличается от СНИЛС пациента предыдущей версии [{previous}]",
    "version.other_set_id": (
        "идентификатор набора версий документа (setId) [{set_id}] отличается от setId предыдущей версии [{previous}]"
    ),
    "version.not_current": "документ [{target}] не является актуальной версией, актуальная версия [{current}]",
    "version.no_number": "не указан номер версии документа (versionNumber)",
    "version.number_not_greater": "номер версии документа [{number}] должен быть больше номера актуальной версии [{current}]",
    "version.number_not_next": (
        "номер версии документа [{number}] должен быть следующим за номером актуальной версии [{current}]"
    ),
    # ---- getDocumentFile: the MIS's answer the registry cannot use (delivery/pull.py) ---------------
    "pull.http_status": "Ошибка ответа от сервиса системы в getDocumentFileResponse: HTTP {status}",
    "pull.too_large": (
        "Ошибка ответа от сервиса системы в getDocumentFileResponse: ответ сервера МИС по адресу {address} больше "
        "предела {limit} байт"
    ),
    "pull.unsafe": (
        "Ошибка ответа от сервиса системы в getDocumentFileResponse: ответ сервера МИС по адресу {address} содержит "
        "объявления DOCTYPE/ENTITY"
    ),
    "pull.not_xml": (
        "Ошибка ответа от сервиса системы в getDocumentFileResponse: ответ сервера МИС по адресу {address} не является XML"
    ),
    "pull.fault": "Ошибка ответа от сервиса системы в getDocumentFileResponse: {reason}",
    "pull.bad_base64": "элемент data не является корректной строкой base64",
    "pull.checksum": "контрольная сумма полученного файла [{actual}] не совпадает с заявленной [{declared}]",
    # ---- callbacks and the processor ----------------------------------------------------------------
    #: a delivery attempt that met a fault of ours (delivery/sender.py): the incident id only
    "delivery.internal": "внутренняя ошибка (инцидент {incident})",
    "processing.no_file": (
        "ИС не передала файл ЭМД: в запросе нет элемента document, а для РМИС [{system}] не задан адрес "
        "getDocumentFile (document_url)"
    ),
    #: a scenario's forced error without its own items
    "processing.forced_error": "Ошибка валидации значения",
    #: a scenario's federal (ФРЭМД) refusal without its own items
    "processing.fremd_refused": "Документ не принят ФРЭМД",
    # ---- a certificate read (gost/certs.py): why its key may not sign, which part is unreadable -------
    "cert.no_key_usage": "в сертификате отсутствует расширение «Использование ключа» (keyUsage)",
    "cert.key_usage_empty": "пусто",
    "cert.key_usage": (
        "использование ключа [{listed}] не включает цифровую подпись (digitalSignature) и неотрекаемость (nonRepudiation)"
    ),
    "cert.part.gost_key": "открытый ключ ГОСТ Р 34.10 (параметры или значение ключа)",
    "cert.part.structure": "структура сертификата",
    "cert.empty_name": "пустое имя",
    "cert.part.serial": "серийный номер",
    "cert.part.issuer": "имя издателя (issuer)",
    "cert.part.validity": "срок действия",
    "cert.part.not_before": "срок действия (notBefore)",
    "cert.part.not_after": "срок действия (notAfter)",
    "cert.part.subject": "имя владельца (subject)",
    "cert.part.key_algorithm": "алгоритм открытого ключа",
    "cert.part.public_key": "открытый ключ ГОСТ Р 34.10",
    "cert.part.extensions": "список расширений",
    "cert.part.key_usage": "расширение «Использование ключа» (keyUsage)",
    "cert.part.subject_key_id": "расширение subjectKeyIdentifier",
    "cert.part.authority_key_id": "расширение authorityKeyIdentifier",
    "cert.part.signature_algorithm": "алгоритм подписи сертификата",
    "cert.part.signature": "значение подписи сертификата",
    # ---- the synchronous answer: what the registry refuses at once (core/coarse_checks.py, registry.py)
    "sync.not_snils": "Значение элемента {where} [{value}] не является СНИЛС: ожидается 11 цифр",
    "sync.snils_checksum": "СНИЛС [{value}] в элементе {where} имеет неверное контрольное число",
    "sync.missing_data": "Не указан обязательный элемент {where}/data в запросе на регистрацию сведений",
    "sync.data_not_base64": "Значение элемента {where}/data не является корректной строкой base64",
    "sync.checksum_not_number": "Значение элемента {where}/checksum [{checksum}] должно быть целым числом (CRC32)",
    "sync.checksum_differs": (
        "Контрольная сумма {where}/checksum [{checksum}] не совпадает с контрольной суммой переданных данных [{actual}]"
    ),
    "sync.missing": "Не указан обязательный элемент {name} в запросе на регистрацию сведений",
    "sync.not_uuid": "Значение элемента localUid [{value}] не соответствует формату UUID",
    "sync.not_oid": "Значение элемента {name} [{value}] не является OID",
    "sync.not_datetime": "Значение элемента creationDateTime [{value}] не соответствует формату xs:dateTime",
    "sync.no_offset": "Значение элемента creationDateTime [{value}] должно содержать часовой пояс",
    "sync.unknown_kind": "Вид документа [{kind}] отсутствует в справочнике 1.2.643.5.1.13.13.11.1520 (элемент kind)",
    "sync.not_date": "Значение элемента patient/birthDate [{value}] не соответствует формату xs:date",
    "sync.unknown_gender": "Значение элемента patient/gender [{value}] отсутствует в справочнике 1.2.643.5.1.13.13.11.1040",
    "sync.no_target": "Не указан элемент associations/association[{number}]/target",
    #: the ``expected`` part of catalog/errors.BAD_VALUE for a value longer than the store keeps
    "sync.too_long": "длина {length} символов больше допустимой {limit}",
    "sync.duplicate_elsewhere": "Документ с идентификатором '{local_uid}' уже зарегистрирован",
    "sync.duplicate_in_progress": "Документ с идентификатором '{local_uid}' уже принят на регистрацию и находится в обработке",
    "sync.missing_system": "Не указан обязательный элемент system в запросе на регистрацию сведений",
    "sync.other_system": (
        "Мнемоника РМИС [{request}] в элементе system не соответствует РМИС [{system}], от имени которой выполнен запрос"
    ),
    "sync.not_datetime_of": "Значение элемента {name} не соответствует формату xs:dateTime",
    "sync.missing_emdr_id": "Не указан обязательный элемент emdrId",
    # ---- what a number in a magic value (CONTRACT §7, MOCK:…) is, for errors.EXPECTED_WHOLE_NUMBER ----------
    "magic.http_status": "статус HTTP",
    "magic.sync_delay": "задержка ответа",
    "magic.callback_delay": "задержка обратного вызова",
    "magic.unit_ms": " мс",
    # ---- faults of the server a layer meets (ServerFault.message: shown on /ready with an incident id)
    "fault.xsd_unloadable": "XSD-схема вида СЭМД {kind} в каталоге пакетов не загружается ни libxml2, ни xmlschema",
    "fault.ca_unreadable": "список доверенных УЦ MOCK_REMD_TRUSTED_CA [{path}] не прочитан",
}


def text(key: str, /, **values: object) -> str:
    """The finding text ``key`` with ``values`` filled in (``KeyError`` for an unknown key or a missing value)."""
    return FINDINGS[key].format(**values)


def fields(key: str) -> frozenset[str]:
    """The names the template ``key`` needs filled in."""
    return frozenset(name for _text, name, _spec, _conv in string.Formatter().parse(FINDINGS[key]) if name)
