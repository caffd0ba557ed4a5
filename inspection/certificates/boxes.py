"""The boxes of the official CHED models (Implementing Regulation (EU) 2019/1715, Annex II), as data: what the
CHED template prints is named here once, with its box number, its label in French and English and the CHED
types whose model has it. Researched in docs/regulation/ched-boxes.json (the French names are translations,
not yet checked against the French text of the Regulation); the template asks for a box by name with
`{% box "place_of_destination" %}`, never by number."""

import dataclasses

CHED_TYPES = frozenset({"CHED-A", "CHED-P", "CHED-PP", "CHED-D"})


@dataclasses.dataclass(frozen=True)
class Box:
    number: str
    fr: str
    en: str
    ched_types: frozenset[str] = CHED_TYPES

    def applies_to(self, ched_type: str) -> bool:
        return ched_type in self.ched_types


def _only(*types: str) -> frozenset[str]:
    return frozenset(types)


BOXES = {
    # Part I: description of the consignment
    "consignor": Box("I.1", "Expéditeur/Exportateur", "Consignor/Exporter"),
    "ched_reference": Box("I.2", "Référence du DSCE", "CHED reference"),
    "local_reference": Box("I.3", "Référence locale", "Local reference"),
    "bcp": Box("I.4", "Poste de contrôle frontalier", "Border control post"),
    "bcp_code": Box("I.5", "Code du poste de contrôle frontalier", "Border control post code"),
    "consignee": Box("I.6", "Destinataire/Importateur", "Consignee/Importer"),
    "place_of_destination": Box("I.7", "Lieu de destination", "Place of destination"),
    "operator": Box("I.8", "Opérateur responsable de l'envoi", "Operator responsible for the consignment"),
    "accompanying_documents": Box("I.9", "Documents d'accompagnement", "Accompanying documents"),
    "prior_notification": Box("I.10", "Notification préalable", "Prior notification"),
    "country_of_origin": Box("I.11", "Pays d'origine", "Country of origin"),
    "region_of_origin": Box("I.12", "Région d'origine", "Region of origin"),
    "means_of_transport": Box("I.13", "Moyen de transport", "Means of transport"),
    "country_of_dispatch": Box(
        "I.14", "Pays d'expédition", "Country of dispatch", _only("CHED-P", "CHED-PP", "CHED-D")
    ),
    "establishment_of_origin": Box("I.15", "Établissement d'origine", "Establishment of origin"),
    "transport_conditions": Box("I.16", "Conditions de transport", "Transport conditions", _only("CHED-P", "CHED-D")),
    "containers": Box("I.17", "Numéro de conteneur/numéro de scellé", "Container number/Seal number"),
    "certified_as_or_for": Box(
        "I.18", "Certifié aux fins de", "Certified as or for", _only("CHED-A", "CHED-P", "CHED-D")
    ),
    "conformity": Box("I.19", "Conformité des marchandises", "Conformity of the goods", _only("CHED-P")),
    # the regime requested: one box among I.20-I.26, after the purpose declared
    "for_transhipment": Box(
        "I.20", "Pour transbordement/transfert/poursuite du voyage", "For transhipment/transfer/onward travel"
    ),
    "for_onward_transportation": Box(
        "I.21", "Pour acheminement ultérieur", "For onward transportation", _only("CHED-PP", "CHED-D")
    ),
    "for_transit": Box("I.22", "Pour transit", "For transit", _only("CHED-A", "CHED-P", "CHED-PP")),
    "for_internal_market": Box("I.23", "Pour le marché intérieur", "For internal market"),
    "for_non_conforming_goods": Box(
        "I.24", "Pour marchandises non conformes", "For non-conforming goods", _only("CHED-P")
    ),
    "for_re_entry": Box("I.25", "Pour réintroduction", "For re-entry", _only("CHED-A", "CHED-P", "CHED-PP")),
    "for_temporary_admission": Box("I.26", "Pour admission temporaire", "For temporary admission", _only("CHED-A")),
    "transport_after_bcp": Box(
        "I.27", "Moyen de transport après le PCF/stockage", "Means of transport after BCP/storage"
    ),
    "transporter": Box("I.28", "Transporteur", "Transporter", _only("CHED-A")),
    "departure_date": Box("I.29", "Date de départ", "Date of departure", _only("CHED-A")),
    "journey_log": Box("I.30", "Carnet de route", "Journey log", _only("CHED-A")),
    "description": Box("I.31", "Description de l'envoi", "Description of the consignment"),
    "total_packages": Box("I.32", "Nombre total de colis", "Total number of packages"),
    "total_quantity": Box("I.33", "Quantité totale", "Total quantity"),
    "total_weight": Box(
        "I.34",
        "Poids net total/poids brut total (kg)",
        "Total net weight/total gross weight (kg)",
        _only("CHED-A", "CHED-P", "CHED-D"),
    ),
    # Part II: controls and decision
    "previous_ched": Box("II.1", "DSCE précédent", "Previous CHED"),
    "part_two_ched_reference": Box("II.2", "Référence du DSCE", "CHED reference"),
    "documentary_check": Box("II.3", "Contrôle documentaire", "Documentary check"),
    "identity_check": Box("II.4", "Contrôle d'identité", "Identity check"),
    "physical_check": Box("II.5", "Contrôle physique", "Physical check"),
    "laboratory_tests": Box("II.6", "Analyses de laboratoire", "Laboratory tests"),
    "acceptable_for_transhipment": Box(
        "II.9",
        "Acceptable pour transbordement/transfert/poursuite du voyage",
        "Acceptable for transhipment/transfer/onward travel",
    ),
    "acceptable_for_onward_transportation": Box(
        "II.10",
        "Acceptable pour acheminement ultérieur",
        "Acceptable for onward transportation",
        _only("CHED-PP", "CHED-D"),
    ),
    "acceptable_for_transit": Box(
        "II.11", "Acceptable pour le transit", "Acceptable for transit", _only("CHED-A", "CHED-P", "CHED-PP")
    ),
    "acceptable_for_internal_market": Box(
        "II.12", "Acceptable pour le marché intérieur", "Acceptable for internal market"
    ),
    "acceptable_for_monitoring": Box(
        "II.13", "Acceptable pour surveillance", "Acceptable for monitoring", _only("CHED-A", "CHED-P")
    ),
    "acceptable_for_non_conforming_goods": Box(
        "II.14",
        "Acceptable pour marchandises non conformes",
        "Acceptable for non-conforming goods",
        _only("CHED-P"),
    ),
    "acceptable_for_temporary_admission": Box(
        "II.15", "Acceptable pour admission temporaire", "Acceptable for temporary admission", _only("CHED-A")
    ),
    "not_acceptable": Box("II.16", "Non acceptable", "Not acceptable"),
    "reasons_for_refusal": Box("II.17", "Motif du refus", "Reason for refusal"),
    "controlled_destinations": Box(
        "II.18", "Détails des destinations contrôlées", "Details of controlled destinations"
    ),
    "bcp_identification": Box("II.20", "Identification du PCF", "Identification of BCP"),
    "certifying_officer": Box("II.21", "Agent certificateur", "Certifying officer"),
    # Part III: follow-up
    "follow_up_ched_reference": Box("III.2", "Référence du DSCE", "CHED reference"),
    "re_dispatch": Box("III.4", "Détails sur la réexpédition", "Details on re-dispatch"),
    "follow_up_by": Box("III.5", "Suivi par", "Follow-up by"),
    "follow_up_officer": Box("III.6", "Agent certificateur", "Certifying officer"),
}

# A national entry document (not a CHED) and the CHED model whose boxes it prints, unnumbered: the national
# plant-health entry into an overseas department takes the boxes of the CHED-PP (docs/regulation.md, section 3).
NATIONAL_MODELS = {"NAT-PP": "CHED-PP"}

# Our purposes (reference data) and the regime box each is declared in.
PURPOSE_BOXES = {
    "transhipment": "for_transhipment",
    "transfer": "for_transhipment",
    "onward_transportation": "for_onward_transportation",
    "transit": "for_transit",
    "internal_market": "for_internal_market",
    "non_conforming": "for_non_conforming_goods",
    "re_entry": "for_re_entry",
    "temporary_admission": "for_temporary_admission",
}

# The regime boxes, in the model's order: one of them is chosen (the purpose), the others print empty.
REGIME_BOXES = tuple(sorted(set(PURPOSE_BOXES.values()), key=lambda name: int(BOXES[name].number.split(".")[1])))

# Our decision codes (reference data) and the Part II box each is ticked in: one box among II.9-II.16.
DECISION_BOXES = {
    "acceptable_for_transhipment": "acceptable_for_transhipment",
    "acceptable_for_transit": "acceptable_for_transit",
    "acceptable_for_internal_market": "acceptable_for_internal_market",
    "acceptable_if_channelled": "acceptable_for_monitoring",
    "acceptable_for_specific_warehouse": "acceptable_for_non_conforming_goods",
    "acceptable_for_temporary_admission": "acceptable_for_temporary_admission",
    "acceptable_for_transfer": "acceptable_for_transhipment",  # II.9: transhipment/transfer/onward travel
    "acceptable_for_onward_travel": "acceptable_for_transhipment",
    "acceptable_for_onward_transportation": "acceptable_for_onward_transportation",
    "non_acceptable": "not_acceptable",
}


def decision_box(code: str) -> Box:
    """The box a decision is printed in; a code this table does not know yet is refused loudly, not printed
    under a wrong number."""
    return BOXES[DECISION_BOXES[code]]
