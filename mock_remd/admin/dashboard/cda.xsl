<?xml version="1.0" encoding="UTF-8"?>
<!-- mock-remd dashboard: a CDA R2 document (СЭМД) as a readable HTML fragment.
     Header facts (title, dates, patient, author, organisation) and every section with its title and
     narrative block. Only elements written here reach the page: no source attribute is copied. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:v3="urn:hl7-org:v3" xmlns:identity="urn:hl7-ru:identity"
                exclude-result-prefixes="v3 identity">
  <xsl:output method="html" encoding="UTF-8" indent="no"/>
  <!-- labels in the dashboard's language (cda_view.render_cda passes them from i18n.py) -->
  <xsl:param name="l-date" select="'Дата документа'"/>
  <xsl:param name="l-patient" select="'Пациент'"/>
  <xsl:param name="l-snils" select="'СНИЛС'"/>
  <xsl:param name="l-author" select="'Автор'"/>
  <xsl:param name="l-signed" select="'Подписал'"/>
  <xsl:param name="l-org" select="'Организация'"/>
  <xsl:param name="l-not-cda" select="'Не документ CDA (ClinicalDocument)'"/>

  <xsl:template match="/">
    <div class="cda">
      <xsl:apply-templates select="v3:ClinicalDocument"/>
      <xsl:if test="not(v3:ClinicalDocument)">
        <p class="muted"><xsl:value-of select="$l-not-cda"/></p>
      </xsl:if>
    </div>
  </xsl:template>

  <!-- an HL7 TS (YYYYMMDD[HHMM[SS]][+|-ZZZZ]) as the dashboard shows times: dd.mm.yyyy HH:MM[:SS] UTC+3,
       the zone being the document's own -->
  <xsl:template name="when">
    <xsl:param name="v"/>
    <xsl:variable name="sign" select="substring(translate($v, '0123456789.', ''), 1, 1)"/>
    <xsl:variable name="d">
      <xsl:choose>
        <xsl:when test="$sign"><xsl:value-of select="substring-before($v, $sign)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:if test="string-length($d) &gt;= 8">
      <xsl:value-of select="concat(substring($d, 7, 2), '.', substring($d, 5, 2), '.', substring($d, 1, 4))"/>
      <xsl:if test="string-length($d) &gt;= 12">
        <xsl:value-of select="concat(' ', substring($d, 9, 2), ':', substring($d, 11, 2))"/>
        <xsl:if test="string-length($d) &gt;= 14"><xsl:value-of select="concat(':', substring($d, 13, 2))"/></xsl:if>
        <xsl:variable name="zone" select="substring-after($v, $sign)"/>
        <xsl:if test="$sign = '+' or $sign = '-'">
          <xsl:value-of select="concat(' UTC', $sign, number(substring($zone, 1, 2)))"/>
          <xsl:if test="substring($zone, 3, 2) != '00'"><xsl:value-of select="concat(':', substring($zone, 3, 2))"/></xsl:if>
        </xsl:if>
      </xsl:if>
    </xsl:if>
  </xsl:template>

  <xsl:template name="person-name">
    <xsl:param name="n"/>
    <!-- Russian CDA writes the patronymic as identity:Patronymic; some documents use a second given -->
    <xsl:value-of select="normalize-space(concat($n/v3:family, ' ', $n/v3:given[1], ' ', $n/v3:given[2], ' ', $n/identity:Patronymic))"/>
  </xsl:template>

  <xsl:template match="v3:ClinicalDocument">
    <header class="cda-head">
      <h3 class="cda-title"><xsl:value-of select="v3:title"/></h3>
      <dl class="facts">
        <dt><xsl:value-of select="$l-date"/></dt>
        <dd><xsl:call-template name="when"><xsl:with-param name="v" select="v3:effectiveTime/@value"/></xsl:call-template></dd>
        <xsl:for-each select="v3:recordTarget/v3:patientRole">
          <dt><xsl:value-of select="$l-patient"/></dt>
          <dd class="cda-patient">
            <xsl:call-template name="person-name"><xsl:with-param name="n" select="v3:patient/v3:name"/></xsl:call-template>
            <xsl:if test="v3:patient/v3:birthTime/@value">
              <xsl:text>, </xsl:text>
              <xsl:call-template name="when"><xsl:with-param name="v" select="substring(v3:patient/v3:birthTime/@value, 1, 8)"/></xsl:call-template>
            </xsl:if>
            <xsl:if test="v3:patient/v3:administrativeGenderCode/@displayName">
              <xsl:value-of select="concat(', ', v3:patient/v3:administrativeGenderCode/@displayName)"/>
            </xsl:if>
            <xsl:for-each select="v3:id[@root='1.2.643.100.3']">
              <xsl:value-of select="concat(', ', $l-snils, ' ', @extension)"/>
            </xsl:for-each>
          </dd>
        </xsl:for-each>
        <xsl:for-each select="v3:author/v3:assignedAuthor">
          <dt><xsl:value-of select="$l-author"/></dt>
          <dd class="cda-author">
            <xsl:call-template name="person-name"><xsl:with-param name="n" select="v3:assignedPerson/v3:name"/></xsl:call-template>
            <xsl:if test="v3:code/@displayName"><xsl:value-of select="concat(', ', v3:code/@displayName)"/></xsl:if>
          </dd>
        </xsl:for-each>
        <xsl:for-each select="v3:legalAuthenticator/v3:assignedEntity">
          <dt><xsl:value-of select="$l-signed"/></dt>
          <dd>
            <xsl:call-template name="person-name"><xsl:with-param name="n" select="v3:assignedPerson/v3:name"/></xsl:call-template>
            <xsl:if test="v3:code/@displayName"><xsl:value-of select="concat(', ', v3:code/@displayName)"/></xsl:if>
          </dd>
        </xsl:for-each>
        <xsl:for-each select="v3:custodian/v3:assignedCustodian/v3:representedCustodianOrganization">
          <dt><xsl:value-of select="$l-org"/></dt>
          <dd><xsl:value-of select="v3:name"/></dd>
        </xsl:for-each>
      </dl>
    </header>
    <xsl:apply-templates select="v3:component/v3:structuredBody/v3:component/v3:section"/>
    <xsl:if test="v3:component/v3:nonXMLBody">
      <p class="muted">nonXMLBody (<xsl:value-of select="v3:component/v3:nonXMLBody/v3:text/@mediaType"/>)</p>
    </xsl:if>
  </xsl:template>

  <xsl:template match="v3:section">
    <section class="cda-section">
      <h4><xsl:value-of select="v3:title"/></h4>
      <xsl:apply-templates select="v3:text"/>
      <xsl:apply-templates select="v3:component/v3:section"/>
    </section>
  </xsl:template>

  <xsl:template match="v3:text">
    <div class="narrative"><xsl:apply-templates/></div>
  </xsl:template>

  <xsl:template match="v3:paragraph"><p><xsl:apply-templates/></p></xsl:template>
  <xsl:template match="v3:content"><span><xsl:apply-templates/></span></xsl:template>
  <xsl:template match="v3:br"><br/></xsl:template>
  <xsl:template match="v3:caption"><strong><xsl:apply-templates/></strong></xsl:template>
  <xsl:template match="v3:list[@listType='ordered']"><ol><xsl:apply-templates select="v3:item"/></ol></xsl:template>
  <xsl:template match="v3:list"><ul><xsl:apply-templates select="v3:item"/></ul></xsl:template>
  <xsl:template match="v3:item"><li><xsl:apply-templates/></li></xsl:template>
  <xsl:template match="v3:table"><table class="grid"><xsl:apply-templates/></table></xsl:template>
  <xsl:template match="v3:thead"><thead><xsl:apply-templates/></thead></xsl:template>
  <xsl:template match="v3:tbody"><tbody><xsl:apply-templates/></tbody></xsl:template>
  <xsl:template match="v3:tr"><tr><xsl:apply-templates/></tr></xsl:template>
  <xsl:template match="v3:th"><th><xsl:apply-templates/></th></xsl:template>
  <xsl:template match="v3:td"><td><xsl:apply-templates/></td></xsl:template>
  <xsl:template match="v3:sup"><sup><xsl:apply-templates/></sup></xsl:template>
  <xsl:template match="v3:sub"><sub><xsl:apply-templates/></sub></xsl:template>
  <xsl:template match="v3:renderMultiMedia|v3:footnote|v3:footnoteRef|v3:linkHtml"><xsl:apply-templates/></xsl:template>
  <xsl:template match="v3:col|v3:colgroup"/>
  <xsl:template match="*"><xsl:apply-templates/></xsl:template>
</xsl:stylesheet>
