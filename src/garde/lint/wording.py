"""The lint rules' titles and messages, in English: the message ids of garde's gettext catalogues.

Each rule's title and message are entries of ``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po``
with the rule's id as their context (``msgctxt "GL001"``), so a translator sees which rule a text
belongs to and two rules may word a text alike yet be translated apart. :func:`rule_text` only
marks a text for ``make translations`` (``pybabel extract -k rule_text:1c,2``); the rule table
reads it through :func:`garde.i18n.translate_in`. Placeholders are in braces (``{country}``),
filled by the rule with ``str.format``; each language keeps the same ones
(tests/test_lint_meta.py checks it).
"""

from __future__ import annotations


def rule_text(context: str, text: str) -> str:
    """``text`` as it is (marks it as a message of ``context`` for the catalogue's extraction)."""
    return text


# rule id -> (title, message)
RULE_TEXTS: dict[str, tuple[str, str]] = {
    "GL000": (
        rule_text("GL000", "Register file cannot be read"),
        rule_text("GL000", "{field}{problem}{suggestion}")),
    "GL001": (
        rule_text("GL001", "Missing legal basis"),
        rule_text("GL001", "no Art. 6(1) legal basis is declared for this activity")),
    "GL002": (
        rule_text("GL002", "Legitimate interest not stated"),
        rule_text("GL002", "the basis is legitimate interests but the interest pursued is not "
                  "stated (legitimate_interest)")),
    "GL003": (
        rule_text("GL003", "Legal obligation not named"),
        rule_text("GL003", "the basis is a legal obligation but neither the obligation nor the "
                  "law that imposes it is named (obligation, law)")),
    "GL004": (
        rule_text("GL004", "No way to capture consent"),
        rule_text("GL004", "the activity relies on consent but says nowhere how consent is "
                  "captured (consent.capture)")),
    "GL005": (
        rule_text("GL005", "No way to withdraw consent"),
        rule_text("GL005", "the activity relies on consent but offers no way to withdraw it "
                  "(consent.withdrawal)")),
    "GL006": (
        rule_text("GL006", "Missing retention period"),
        rule_text("GL006", "no retention period or criterion is declared for this "
                  "activity{categories}")),
    "GL007": (
        rule_text("GL007", "Retention beyond the regulator's reference"),
        rule_text("GL007", "'{rule}' keeps data longer than the {authority} reference "
                  "'{maximum}' ({period}): shorten it or justify it")),
    "GL008": (
        rule_text("GL008", "Retention not comparable with the reference"),
        rule_text("GL008", "'{rule}' cannot be compared automatically with the {authority} "
                  "reference '{maximum}' ({period}): check it by hand")),
    "GL009": (
        rule_text("GL009", "Special category without an Art. 9 condition"),
        rule_text("GL009", "'{category}' is a special category of data but no Art. 9(2) "
                  "condition is declared (art9_condition)")),
    "GL010": (
        rule_text("GL010", "Transfer outside the EEA without a safeguard"),
        rule_text("GL010", "the transfer to {country} has no safeguard (adequacy decision, SCC, "
                  "BCR, ...)")),
    "GL011": (
        rule_text("GL011", "Recipient outside the EEA without a declared transfer"),
        rule_text("GL011", "recipient '{recipient}' is in {country}, {area}, but no transfer to "
                  "{country} is declared")),
    "GL012": (
        rule_text("GL012", "No DPIA decision"),
        rule_text("GL012", "the activity involves {triggers} but records no decision on a DPIA "
                  "(dpia)")),
    "GL013": (
        rule_text("GL013", "Required DPIA not done"),
        rule_text("GL013", "a DPIA is declared required but not done")),
    "GL014": (
        rule_text("GL014", "No data subjects"),
        rule_text("GL014", "the activity names no category of data subjects")),
    "GL015": (
        rule_text("GL015", "No data categories"),
        rule_text("GL015", "the activity names no category of personal data")),
    "GL016": (
        rule_text("GL016", "Unknown vocabulary term"),
        rule_text("GL016", "{field}: {problem}{suggestion}")),
    "GL017": (
        rule_text("GL017", "No purpose"),
        rule_text("GL017", "the activity states no purpose")),
    "GL018": (
        rule_text("GL018", "No controller contact"),
        rule_text("GL018", "the register gives no contact (address, e-mail, phone or URL) for "
                  "{controller}")),
    "GL019": (
        rule_text("GL019", "No DPO contact"),
        rule_text("GL019", "no DPO is given for {controller} (controller.dpo; required when a "
                  "DPO is designated, Art. 37)")),
    "GL020": (
        rule_text("GL020", "Processor activity without its controller"),
        rule_text("GL020", "the activity is carried out as a processor but names no controller "
                  "it acts for (on_behalf_of)")),
    "GL021": (
        rule_text("GL021", "Retention rule for a category the activity does not process"),
        rule_text("GL021", "the retention rule names '{category}', which is not among the "
                  "activity's data categories")),
    "GL022": (
        rule_text("GL022", "Automated decision without an Art. 22(2) basis"),
        rule_text("GL022", "automated decisions are declared but the basis is neither contract, "
                  "law nor consent")),
    "GL023": (
        rule_text("GL023", "Electronic prospection of prospects without consent"),
        rule_text("GL023", "prospects are canvassed by {channels} without consent: electronic "
                  "prospection of non-customers needs prior consent")),
    "GL024": (
        rule_text("GL024", "Trackers without consent"),
        rule_text("GL024", "'{category}' reads or writes on the user's device but no activity "
                  "relying on consent covers it (unless it is strictly necessary: "
                  "trackers[].strictly_necessary)")),
    "GL080": (
        rule_text("GL080", "Term in the register's own words"),
        rule_text("GL080", "{noun} \"{wording}\" is not a vocabulary term: documents print it as "
                  "written; rules that read terms (special categories, reference "
                  "periods, trackers) cannot tell what it means{suggestion}")),
    "GL081": (
        rule_text("GL081", "Consent for employees' data"),
        rule_text("GL081", "consent is the basis for data of {subjects}: an employer's power "
                  "means it is rarely freely given (EDPB 05/2020 §21-24); use another "
                  "basis (contract, legal obligation, legitimate interests) or state "
                  "why refusing has no consequence at all")),
    "GL082": (
        rule_text("GL082", "National identification number"),
        rule_text("GL082", "`{category}` is a national identification number: {rules} lets the "
                  "controller's country ({country}) set the conditions for processing "
                  "it; check that the processing is among those its law allows")),
    "GL083": (
        rule_text("GL083", "DPO required (public body)"),
        rule_text("GL083", "{controller} is a public authority or body (controller.public_body): "
                  "it must designate a data protection officer (controller.dpo), courts "
                  "acting in their judicial capacity excepted")),
    "GL084": (
        rule_text("GL084", "DPO likely required (large scale)"),
        rule_text("GL084", "large-scale processing under Art. 37(1){point} and no data "
                  "protection officer (controller.dpo): one is required if this is a "
                  "core activity of the controller; designate one or state why not")),
    "GL085": (
        rule_text("GL085", "National DPO rule"),
        rule_text("GL085", "{controller} names no data protection officer: in Germany BDSG § "
                  "38(1) also requires one when at least 20 persons constantly process "
                  "personal data automatically, when processing needs a DPIA, or for "
                  "commercial transfer or market research")),
    "GL086": (
        rule_text("GL086", "Retention below the legal minimum"),
        rule_text("GL086", "`{rule}` keeps `{category}` for less than the {minimum} the law "
                  "requires ({law}): the records would be erased before the law allows")),
    "GL090": (
        rule_text("GL090", "Text not translated"),
        rule_text("GL090", "`{field}` has no text in {langs}, a language the notice is published "
                  "in (publishes_in): the notice shows it in another language, marked "
                  "\"not translated\"")),
    "GL091": (
        rule_text("GL091", "Recipients not stated"),
        rule_text("GL091", "neither the activity nor the register names a recipient or category "
                  "of recipients (recipients): the notice and the Art. 30 register "
                  "print a gap")),
    "GL092": (
        rule_text("GL092", "Sources not stated"),
        rule_text("GL092", "neither the activity nor the register says where the data comes from "
                  "(sources): the notice cannot tell whether Art. 13 (from the person) "
                  "or Art. 14 (obtained elsewhere) applies and prints a gap")),
    "GL093": (
        rule_text("GL093", "Transfers not stated"),
        rule_text("GL093", "the register neither lists this activity's transfers outside the EEA "
                  "nor says there are none (transfers, no_transfer): the documents "
                  "print a gap")),
    "GL094": (
        rule_text("GL094", "DPIA decision not recorded"),
        rule_text("GL094", "the register does not record whether a DPIA is required (dpia), even "
                  "that none is: the Art. 30 register prints a gap")),
    "GL095": (
        rule_text("GL095", "Last update not stated"),
        rule_text("GL095", "the register gives no date of last update (updated): the notice "
                  "prints a gap, never the build date")),
    "GL096": (
        rule_text("GL096", "Automated means not stated"),
        rule_text("GL096", "the activity rests on consent or a contract but does not say whether "
                  "it is carried out by automated means (automated_means): the notice "
                  "cannot say whether the right to portability applies and prints a gap")),
    "GL097": (
        rule_text("GL097", "Supervisory authority not stated"),
        rule_text("GL097", "the register names no supervisory authority for {controller} "
                  "(controller.supervisory_authority) and no country whose authority "
                  "garde knows (controller.country): the documents print a gap where "
                  "the subject learns where to complain")),
    "GL098": (
        rule_text("GL098", "Sub-processors not stated"),
        rule_text("GL098", "the processor activity names no sub-processor and does not say there "
                  "is none (sub_processors, no_sub_processor): the Art. 30 register "
                  "prints a gap")),
    "GL099": (
        rule_text("GL099", "National age of digital consent unknown"),
        rule_text("GL099", "minors' data is processed and garde does not hold the age of digital "
                  "consent of {country} (Art. 8(1), 13 to 16): the notice prints a gap; "
                  "check it against national law")),
    "GL040": (
        rule_text("GL040", "National checks skipped"),
        rule_text("GL040", "the register names no controller country (controller.country): "
                  "national rules were not checked (reference periods of {checks}; the "
                  "national age of digital consent, Art. 8, taken as 16)")),
    "GL041": (
        rule_text("GL041", "Minors' consent without a parent's"),
        rule_text("GL041", "minors' data rests on consent: below {age} ({source}) an "
                  "information-society service needs the consent of a parent, verified "
                  "with reasonable efforts; state how (parental_consent)")),
    "GL042": (
        rule_text("GL042", "No representative in the Union"),
        rule_text("GL042", "{controller} is established in {country}, outside the EU/EEA, and "
                  "has data subjects in {where}, but names no representative in the "
                  "Union (controller.representative)")),
    "GL043": (
        rule_text("GL043", "EU transfer tool under the UK GDPR"),
        rule_text("GL043", "`{safeguard}` is an EU GDPR tool; a controller established in the UK "
                  "transfers under UK GDPR Chapter V: the EU SCCs with the UK Addendum "
                  "(uk_addendum) or the IDTA (uk_idta)")),
    "GL044": (
        rule_text("GL044", "No representative in the UK"),
        rule_text("GL044", "{controller} is established in {country}, outside the UK, and has "
                  "data subjects in the UK, but names no UK representative "
                  "(controller.uk_representative)")),
    "GL075": (
        rule_text("GL075", "Tracker lifetime beyond the reference"),
        rule_text("GL075", "the tracker '{tracker}' lives {lifetime}, longer than the {maximum} "
                  "{authority} recommends for trackers that need consent or are exempt "
                  "only under conditions")),
    "GL076": (
        rule_text("GL076", "Tracker exemption not allowed"),
        rule_text("GL076", "the tracker '{tracker}' is stated strictly necessary, but a tracker "
                  "of category {category} never is: it needs consent")),
    "GL077": (
        rule_text("GL077", "Tracker not fully described"),
        rule_text("GL077", "the register does not state the {missing} of the tracker '{tracker}'")),
    "GL078": (
        rule_text("GL078", "Tracker exemption to check"),
        rule_text("GL078", "the tracker '{tracker}' ({category}) is stated strictly necessary: "
                  "this holds only under the authority's conditions (e.g. CNIL: "
                  "audience measurement for the site's own anonymous statistics, no "
                  "cross-site tracking, lifetime 13 months at most), which the register "
                  "cannot show")),
    "GL079": (
        rule_text("GL079", "Named without contact details"),
        rule_text("GL079", "{field} is given for {controller} with no e-mail, telephone, address "
                  "or web page to reach them; their contact details must be published")),
    "GL025": (
        rule_text("GL025", "Transfer safeguard not valid"),
        rule_text("GL025", "the safeguard `{safeguard}` does not cover this transfer to "
                  "{country} on {day}: it counts over {validity}, for {covers}")),
    "GL026": (
        rule_text("GL026", "Check the recipient's certification"),
        rule_text("GL026", "`{safeguard}` covers only certified recipients: check that the "
                  "recipient is on the list (the register cannot show it)")),
    "GL027": (
        rule_text("GL027", "Data kept without time limit"),
        rule_text("GL027", "the register keeps this data without limit (\"{rule}\"): state a "
                  "period or the criteria that set it")),
    "GL028": (
        rule_text("GL028", "Transfers contradict \"no transfer\""),
        rule_text("GL028", "no_transfer says nothing is transferred {area}, yet this activity "
                  "lists transfers ({count})")),
    "GL029": (
        rule_text("GL029", "UK transfer tool under the EU GDPR"),
        rule_text("GL029", "`{safeguard}` is a UK GDPR transfer tool (ICO); a controller "
                  "established in {controller_country} transfers under GDPR Chapter V: "
                  "name an EU safeguard (e.g. scc)")),
    "GL030": (
        rule_text("GL030", "Law not named"),
        rule_text("GL030", "the basis is {basis} but the law it rests on is not named (law)")),
    "GL031": (
        rule_text("GL031", "Whether providing the data is required not stated"),
        rule_text("GL031", "the register does not say whether providing the data is required and "
                  "what happens if it is not ({missing})")),
    "GL032": (
        rule_text("GL032", "Automated decision not explained"),
        rule_text("GL032", "the activity makes automated decisions but the register does not "
                  "state {missing}")),
    "GL033": (
        rule_text("GL033", "Automated decisions not stated"),
        rule_text("GL033", "the register does not say whether this activity makes decisions "
                  "based solely on automated processing, including profiling "
                  "(automated_decisions: true or false)")),
    "GL034": (
        rule_text("GL034", "No route to exercise rights"),
        rule_text("GL034", "the register gives no postal address, e-mail or form for requests to "
                  "exercise rights (rights.route)")),
    "GL035": (
        rule_text("GL035", "Answer time beyond the law"),
        rule_text("GL035", "the register promises an answer within {answer_time}, which can end "
                  "after the one month the law allows (rights.answer_time); the "
                  "extension by two months is for complex or numerous requests only")),
    "GL050": (
        rule_text("GL050", "Processor contract missing"),
        rule_text("GL050", "the register names no Art. 28(3) contract (reference, date or "
                  "wording) with {controller}, on whose behalf this activity is carried "
                  "out (on_behalf_of[].contract)")),
    "GL051": (
        rule_text("GL051", "Sub-processor authorisation not stated"),
        rule_text("GL051", "the register does not say whether the controllers authorised "
                  "{sub_processor} by a specific or a general written authorisation "
                  "(sub_processors[].authorisation, or "
                  "on_behalf_of[].sub_processor_authorisation for every controller)")),
    "GL052": (
        rule_text("GL052", "Sub-processor abroad without a declared transfer"),
        rule_text("GL052", "the sub-processor {sub_processor} is in {country}, {area}, but the "
                  "activity's transfers do not list that country")),
    "GL053": (
        rule_text("GL053", "Contact of a served controller missing"),
        rule_text("GL053", "the register gives no contact (address, e-mail, phone or URL) for "
                  "{controller}, on whose behalf this activity is carried out")),
    "GL054": (
        rule_text("GL054", "Categories of processing missing"),
        rule_text("GL054", "the register states no category of processing carried out on behalf "
                  "of {controller} (purposes, or on_behalf_of[].processing)")),
    "GL055": (
        rule_text("GL055", "Processor transfers not stated"),
        rule_text("GL055", "the register neither lists this processor activity's transfers "
                  "{area} nor states that there are none (transfers, no_transfer)")),
    "GL056": (
        rule_text("GL056", "Processor security measures not described"),
        rule_text("GL056", "the register gives no general description of the technical and "
                  "organisational security measures of this processor activity "
                  "(security_measures)")),
    "GL100": (
        rule_text("GL100", "Processor activity states a legal basis"),
        rule_text("GL100", "the activity is carried out as a processor but declares legal bases or a "
                  "consent capture: they are its controllers' to state, and decide() does not read "
                  "them; if the organisation decides why this data is processed, it is a controller "
                  "for it (role)")),
    "GL057": (
        rule_text("GL057", "Joint controllers not named"),
        rule_text("GL057", "the activity is carried out as joint controller but names no other "
                  "controller (joint_controllers)")),
    "GL058": (
        rule_text("GL058", "Essence of the joint arrangement missing"),
        rule_text("GL058", "the register neither gives the essence of the joint controllers' "
                  "arrangement nor says where data subjects can read it "
                  "(arrangement.essence, arrangement.available_at)")),
    "GL059": (
        rule_text("GL059", "Contact of a joint controller missing"),
        rule_text("GL059", "the register gives no contact (address, e-mail, phone or URL) for "
                  "the joint controller {controller}")),
    "GL060": (
        rule_text("GL060", "Security measures missing"),
        rule_text("GL060", "neither the activity nor the register describes the technical and "
                  "organisational security measures (security_measures, at either "
                  "level)")),
    "GL065": (
        rule_text("GL065", "Retention given as a criterion in words"),
        rule_text("GL065", "no period, only the criteria that determine it (\"{criterion}\"): the "
                  "notice prints them as written (Art. 13(2)(a) allows it), but the "
                  "retention sweep cannot apply them; map the data to a period where "
                  "one exists")),
    "GL066": (
        rule_text("GL066", "Alternative rules over different data"),
        rule_text("GL066", "'{rule}' and '{other}' cover some of the same data but not all of it "
                  "(only one covers {categories}): they are neither alternatives "
                  "({combination}) nor per-category rules; give each rule the "
                  "categories it governs")),
    "GL067": (
        rule_text("GL067", "Retention rule with a condition in words"),
        rule_text("GL067", "'{rule}' applies where \"{condition}\": the notice prints the "
                  "condition, but the retention sweep cannot tell where it holds and "
                  "never applies this rule (under \"latest of\" it then keeps the data)")),
    "GL068": (
        rule_text("GL068", "Retention ends in a review"),
        rule_text("GL068", "when '{rule}' ends a person decides what follows: the retention "
                  "sweep never deletes on it, and `garde retention plan` lists the rows "
                  "due for review; record who decides and when")),
    "GL070": (
        rule_text("GL070", "Archive without an end"),
        rule_text("GL070", "the rule \"{rule}\" archives the data but does not say when the "
                  "archive deletes it: give `archive.until`")),
    "GL071": (
        rule_text("GL071", "Archive period on a rule that does not archive"),
        rule_text("GL071", "the rule \"{rule}\" says `action: {action}`, so its `archive` never "
                  "applies: say `action: archive` or remove `archive`")),
    "GL072": (
        rule_text("GL072", "Archive ends before archiving"),
        rule_text("GL072", "the archive ends \"{until}\", no later than the archiving (\"{rule}\"): "
                  "the data would be deleted as soon as it is archived")),
    "GL073": (
        rule_text("GL073", "Who may read the archive not stated"),
        rule_text("GL073", "the rule \"{rule}\" archives the data; say who may read the archive "
                  "(`archive.access`): an intermediate archive is restricted to the "
                  "staff who need it")),
}

# {area} of GL011, GL028, GL052 and GL055: where data leaves the area of the controller's law.
AREAS: dict[str, str] = {
    "gdpr": rule_text("area", "outside the EEA"),
    "uk_gdpr": rule_text("area", "outside the UK"),
}
