"""Threshold outcomes at and around every cut-off, per drug and jurisdiction.

Rows are written from the label tables in shared/reference/jak-monitoring.md, in the units a
lab reports (10⁹/L in Europe, cells/mm³ in the US), so unit conversion is tested too.
"""

from decimal import Decimal

import pytest

from clinics.thresholds import UnitError, evaluate

# (drug, jurisdiction, phase, analyte, value, unit, previous, action, rule or None)
ROWS = [
    # Tofacitinib do-not-start: ALC < 500 (US) vs < 750 (EU); ANC < 1000; Hb < 9.
    ("tofacitinib", "US", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "tofacitinib.alc.no-start.us"),
    ("tofacitinib", "US", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "baseline", "alc", "0.6", "10^9/L", None, "none", None),
    ("tofacitinib", "EU", "baseline", "alc", "0.6", "10^9/L", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "EU", "baseline", "alc", "0.749", "10^9/L", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "EU", "baseline", "alc", "0.75", "10^9/L", None, "none", None),
    ("tofacitinib", "UK", "baseline", "alc", "740", "cells/mm3", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "US", "baseline", "anc", "999", "cells/mm3", None, "do_not_start", "tofacitinib.anc.no-start"),
    ("tofacitinib", "EU", "baseline", "anc", "1.0", "10^9/L", None, "none", None),
    ("tofacitinib", "US", "baseline", "hb", "8.9", "g/dL", None, "do_not_start", "tofacitinib.hb.no-start"),
    ("tofacitinib", "US", "baseline", "hb", "9.0", "g/dL", None, "none", None),
    ("tofacitinib", "EU", "baseline", "hb", "89", "g/L", None, "do_not_start", "tofacitinib.hb.no-start"),
    # On treatment: ALC < 500 discontinue (confirmed); EU 500-750 reduce or interrupt.
    ("tofacitinib", "US", "treatment", "alc", "499", "cells/mm3", None, "discontinue", "tofacitinib.alc.discontinue"),
    ("tofacitinib", "US", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "treatment", "alc", "600", "cells/mm3", None, "none", None),
    ("tofacitinib", "EU", "treatment", "alc", "0.6", "10^9/L", None, "interrupt", "tofacitinib.alc.reduce.eu"),
    ("tofacitinib", "EU", "treatment", "alc", "0.75", "10^9/L", None, "none", None),
    ("tofacitinib", "EU", "treatment", "alc", "0.49", "10^9/L", None, "discontinue", "tofacitinib.alc.discontinue"),
    # ANC > 1000 maintain; 500-1000 interrupt; < 500 discontinue.
    ("tofacitinib", "US", "treatment", "anc", "1001", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "treatment", "anc", "1000", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    ("tofacitinib", "US", "treatment", "anc", "500", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    ("tofacitinib", "US", "treatment", "anc", "499", "cells/mm3", None, "discontinue", "tofacitinib.anc.discontinue"),
    ("tofacitinib", "EU", "treatment", "anc", "0.8", "10^9/L", None, "interrupt", "tofacitinib.anc.interrupt"),
    # Hb < 8.0 or a drop > 2 g/dL interrupts; a drop of exactly 2 does not.
    ("tofacitinib", "US", "treatment", "hb", "7.9", "g/dL", None, "interrupt", "tofacitinib.hb.interrupt"),
    ("tofacitinib", "US", "treatment", "hb", "8.0", "g/dL", None, "none", None),
    ("tofacitinib", "US", "treatment", "hb", "10.9", "g/dL", "13.0", "interrupt", "tofacitinib.hb.drop"),
    ("tofacitinib", "US", "treatment", "hb", "11.0", "g/dL", "13.0", "none", None),
    ("tofacitinib", "EU", "treatment", "hb", "109", "g/L", "130", "interrupt", "tofacitinib.hb.drop"),
    ("tofacitinib", "EU", "treatment", "hb", "110", "g/L", "130", "none", None),
    # While paused, the resume rule advises once neutrophils are above 1000.
    ("tofacitinib", "US", "paused", "anc", "1001", "cells/mm3", None, "advise", "tofacitinib.anc.resume"),
    ("tofacitinib", "US", "paused", "anc", "1000", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    # The default protocol (NHS Lanarkshire): ALT > 3x ULN stop, > 5x ULN contraindicated.
    ("tofacitinib", "UK", "treatment", "alt", "3.1", "xULN", None, "interrupt", "protocol.default.alt.stop"),
    ("tofacitinib", "UK", "treatment", "alt", "3", "xULN", None, "none", None),
    ("tofacitinib", "UK", "baseline", "alt", "5.1", "xULN", None, "do_not_start", "protocol.default.alt.contraindicated"),
    ("tofacitinib", "UK", "baseline", "alt", "5", "xULN", None, "none", None),
    # Upadacitinib: "do not initiate, or interrupt, if ANC <1000, ALC <500, Hb <8 g/dL";
    # "restart when values recover".
    ("upadacitinib", "US", "baseline", "anc", "999", "cells/mm3", None, "do_not_start", "upadacitinib.anc.no-start"),
    ("upadacitinib", "US", "baseline", "anc", "1000", "cells/mm3", None, "none", None),
    ("upadacitinib", "US", "baseline", "anc", "1001", "cells/mm3", None, "none", None),
    ("upadacitinib", "EU", "baseline", "anc", "0.999", "10^9/L", None, "do_not_start", "upadacitinib.anc.no-start"),
    ("upadacitinib", "EU", "baseline", "anc", "1.0", "10^9/L", None, "none", None),
    ("upadacitinib", "UK", "baseline", "anc", "1.001", "10^9/L", None, "none", None),
    ("upadacitinib", "US", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "upadacitinib.alc.no-start"),
    ("upadacitinib", "US", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("upadacitinib", "US", "baseline", "alc", "501", "cells/mm3", None, "none", None),
    ("upadacitinib", "EU", "baseline", "alc", "0.499", "10^9/L", None, "do_not_start", "upadacitinib.alc.no-start"),
    ("upadacitinib", "EU", "baseline", "alc", "0.5", "10^9/L", None, "none", None),
    ("upadacitinib", "EU", "baseline", "alc", "0.501", "10^9/L", None, "none", None),
    ("upadacitinib", "US", "baseline", "hb", "7.9", "g/dL", None, "do_not_start", "upadacitinib.hb.no-start"),
    ("upadacitinib", "US", "baseline", "hb", "8.0", "g/dL", None, "none", None),
    ("upadacitinib", "US", "baseline", "hb", "8.1", "g/dL", None, "none", None),
    ("upadacitinib", "EU", "baseline", "hb", "79", "g/L", None, "do_not_start", "upadacitinib.hb.no-start"),
    ("upadacitinib", "EU", "baseline", "hb", "80", "g/L", None, "none", None),
    ("upadacitinib", "EU", "baseline", "hb", "81", "g/L", None, "none", None),
    ("upadacitinib", "US", "treatment", "anc", "999", "cells/mm3", None, "interrupt", "upadacitinib.anc.interrupt"),
    ("upadacitinib", "US", "treatment", "anc", "1000", "cells/mm3", None, "none", None),
    ("upadacitinib", "US", "treatment", "anc", "1001", "cells/mm3", None, "none", None),
    ("upadacitinib", "EU", "treatment", "anc", "0.999", "10^9/L", None, "interrupt", "upadacitinib.anc.interrupt"),
    ("upadacitinib", "EU", "treatment", "anc", "1.0", "10^9/L", None, "none", None),
    ("upadacitinib", "EU", "treatment", "anc", "1.001", "10^9/L", None, "none", None),
    ("upadacitinib", "US", "treatment", "alc", "499", "cells/mm3", None, "interrupt", "upadacitinib.alc.interrupt"),
    ("upadacitinib", "US", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("upadacitinib", "US", "treatment", "alc", "501", "cells/mm3", None, "none", None),
    ("upadacitinib", "EU", "treatment", "alc", "0.499", "10^9/L", None, "interrupt", "upadacitinib.alc.interrupt"),
    ("upadacitinib", "EU", "treatment", "alc", "0.5", "10^9/L", None, "none", None),
    ("upadacitinib", "UK", "treatment", "alc", "0.501", "10^9/L", None, "none", None),
    ("upadacitinib", "US", "treatment", "hb", "7.9", "g/dL", None, "interrupt", "upadacitinib.hb.interrupt"),
    ("upadacitinib", "US", "treatment", "hb", "8.0", "g/dL", None, "none", None),
    ("upadacitinib", "US", "treatment", "hb", "8.1", "g/dL", None, "none", None),
    ("upadacitinib", "EU", "treatment", "hb", "79", "g/L", None, "interrupt", "upadacitinib.hb.interrupt"),
    ("upadacitinib", "EU", "treatment", "hb", "80", "g/L", None, "none", None),
    ("upadacitinib", "EU", "treatment", "hb", "81", "g/L", None, "none", None),
    ("upadacitinib", "US", "paused", "anc", "999", "cells/mm3", None, "interrupt", "upadacitinib.anc.interrupt"),
    ("upadacitinib", "US", "paused", "anc", "1000", "cells/mm3", None, "advise", "upadacitinib.anc.resume"),
    ("upadacitinib", "EU", "paused", "alc", "0.499", "10^9/L", None, "interrupt", "upadacitinib.alc.interrupt"),
    ("upadacitinib", "EU", "paused", "alc", "0.5", "10^9/L", None, "advise", "upadacitinib.alc.resume"),
    ("upadacitinib", "US", "paused", "hb", "7.9", "g/dL", None, "interrupt", "upadacitinib.hb.interrupt"),
    ("upadacitinib", "EU", "paused", "hb", "80", "g/L", None, "advise", "upadacitinib.hb.resume"),
    # Filgotinib (EU/UK), SmPC Table 1: "do not initiate / interrupt if ANC <1×10⁹/L, ALC <0.5×10⁹/L,
    # Hb <8 g/dL; restart when above" (so exactly at the cut-off neither interrupts nor restarts).
    ("filgotinib", "EU", "baseline", "anc", "0.999", "10^9/L", None, "do_not_start", "filgotinib.anc.no-start"),
    ("filgotinib", "EU", "baseline", "anc", "1.0", "10^9/L", None, "none", None),
    ("filgotinib", "EU", "baseline", "anc", "1.001", "10^9/L", None, "none", None),
    ("filgotinib", "UK", "baseline", "anc", "999", "cells/mm3", None, "do_not_start", "filgotinib.anc.no-start"),
    ("filgotinib", "UK", "baseline", "anc", "1000", "cells/mm3", None, "none", None),
    ("filgotinib", "EU", "baseline", "alc", "0.499", "10^9/L", None, "do_not_start", "filgotinib.alc.no-start"),
    ("filgotinib", "EU", "baseline", "alc", "0.5", "10^9/L", None, "none", None),
    ("filgotinib", "EU", "baseline", "alc", "0.501", "10^9/L", None, "none", None),
    ("filgotinib", "UK", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "filgotinib.alc.no-start"),
    ("filgotinib", "UK", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("filgotinib", "EU", "baseline", "hb", "79", "g/L", None, "do_not_start", "filgotinib.hb.no-start"),
    ("filgotinib", "EU", "baseline", "hb", "80", "g/L", None, "none", None),
    ("filgotinib", "EU", "baseline", "hb", "81", "g/L", None, "none", None),
    ("filgotinib", "UK", "baseline", "hb", "7.9", "g/dL", None, "do_not_start", "filgotinib.hb.no-start"),
    ("filgotinib", "UK", "baseline", "hb", "8.0", "g/dL", None, "none", None),
    ("filgotinib", "EU", "treatment", "anc", "0.999", "10^9/L", None, "interrupt", "filgotinib.anc.interrupt"),
    ("filgotinib", "EU", "treatment", "anc", "1.0", "10^9/L", None, "none", None),
    ("filgotinib", "EU", "treatment", "anc", "1.001", "10^9/L", None, "none", None),
    ("filgotinib", "UK", "treatment", "anc", "999", "cells/mm3", None, "interrupt", "filgotinib.anc.interrupt"),
    ("filgotinib", "EU", "treatment", "alc", "0.499", "10^9/L", None, "interrupt", "filgotinib.alc.interrupt"),
    ("filgotinib", "EU", "treatment", "alc", "0.5", "10^9/L", None, "none", None),
    ("filgotinib", "EU", "treatment", "alc", "0.501", "10^9/L", None, "none", None),
    ("filgotinib", "UK", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("filgotinib", "EU", "treatment", "hb", "79", "g/L", None, "interrupt", "filgotinib.hb.interrupt"),
    ("filgotinib", "EU", "treatment", "hb", "80", "g/L", None, "none", None),
    ("filgotinib", "EU", "treatment", "hb", "81", "g/L", None, "none", None),
    ("filgotinib", "UK", "treatment", "hb", "7.9", "g/dL", None, "interrupt", "filgotinib.hb.interrupt"),
    ("filgotinib", "EU", "paused", "anc", "0.999", "10^9/L", None, "interrupt", "filgotinib.anc.interrupt"),
    ("filgotinib", "EU", "paused", "anc", "1.0", "10^9/L", None, "none", None),
    ("filgotinib", "EU", "paused", "anc", "1.001", "10^9/L", None, "advise", "filgotinib.anc.resume"),
    ("filgotinib", "EU", "paused", "alc", "0.5", "10^9/L", None, "none", None),
    ("filgotinib", "UK", "paused", "alc", "501", "cells/mm3", None, "advise", "filgotinib.alc.resume"),
    ("filgotinib", "EU", "paused", "hb", "80", "g/L", None, "none", None),
    ("filgotinib", "EU", "paused", "hb", "81", "g/L", None, "advise", "filgotinib.hb.resume"),
    # Abrocitinib do-not-start: "not recommended if platelets <150,000/mm³, ALC <500, ANC <1000 or
    # Hb <8" (US; Singapore PI the same).
    ("abrocitinib", "US", "baseline", "platelets", "149999", "cells/mm3", None, "do_not_start", "abrocitinib.platelets.no-start"),
    ("abrocitinib", "US", "baseline", "platelets", "150000", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "baseline", "platelets", "150001", "cells/mm3", None, "none", None),
    ("abrocitinib", "EU", "baseline", "platelets", "149.9", "10^9/L", None, "do_not_start", "abrocitinib.platelets.no-start"),
    ("abrocitinib", "EU", "baseline", "platelets", "150", "10^9/L", None, "none", None),
    ("abrocitinib", "EU", "baseline", "platelets", "150.1", "10^9/L", None, "none", None),
    ("abrocitinib", "US", "baseline", "platelets", "49999", "cells/mm3", None, "do_not_start", "abrocitinib.platelets.no-start"),
    ("abrocitinib", "US", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "abrocitinib.alc.no-start"),
    ("abrocitinib", "US", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "baseline", "alc", "501", "cells/mm3", None, "none", None),
    ("abrocitinib", "EU", "baseline", "alc", "0.499", "10^9/L", None, "do_not_start", "abrocitinib.alc.no-start"),
    ("abrocitinib", "EU", "baseline", "alc", "0.5", "10^9/L", None, "none", None),
    ("abrocitinib", "US", "baseline", "anc", "999", "cells/mm3", None, "do_not_start", "abrocitinib.anc.no-start"),
    ("abrocitinib", "US", "baseline", "anc", "1000", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "baseline", "anc", "1100", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "baseline", "hb", "7.9", "g/dL", None, "do_not_start", "abrocitinib.hb.no-start"),
    ("abrocitinib", "US", "baseline", "hb", "8.0", "g/dL", None, "none", None),
    ("abrocitinib", "US", "baseline", "hb", "9.9", "g/dL", None, "none", None),
    # EU conflict (MIMS Thailand: "ANC <1.2×10³/mm³ and Hb <10 g/dL"): advice before starting only.
    ("abrocitinib", "EU", "baseline", "anc", "0.999", "10^9/L", None, "do_not_start", "abrocitinib.anc.no-start"),
    ("abrocitinib", "EU", "baseline", "anc", "1.0", "10^9/L", None, "advise", "abrocitinib.anc.no-start.eu-conflict"),
    ("abrocitinib", "EU", "baseline", "anc", "1.199", "10^9/L", None, "advise", "abrocitinib.anc.no-start.eu-conflict"),
    ("abrocitinib", "EU", "baseline", "anc", "1.2", "10^9/L", None, "none", None),
    ("abrocitinib", "EU", "baseline", "anc", "1.201", "10^9/L", None, "none", None),
    ("abrocitinib", "UK", "baseline", "anc", "1100", "cells/mm3", None, "advise", "abrocitinib.anc.no-start.eu-conflict"),
    ("abrocitinib", "EU", "baseline", "hb", "79", "g/L", None, "do_not_start", "abrocitinib.hb.no-start"),
    ("abrocitinib", "EU", "baseline", "hb", "80", "g/L", None, "advise", "abrocitinib.hb.no-start.eu-conflict"),
    ("abrocitinib", "EU", "baseline", "hb", "99", "g/L", None, "advise", "abrocitinib.hb.no-start.eu-conflict"),
    ("abrocitinib", "EU", "baseline", "hb", "100", "g/L", None, "none", None),
    ("abrocitinib", "EU", "baseline", "hb", "101", "g/L", None, "none", None),
    ("abrocitinib", "UK", "baseline", "hb", "9.9", "g/dL", None, "advise", "abrocitinib.hb.no-start.eu-conflict"),
    # ... and being baseline-only (reference §2.5: do-not-initiate values), they stay silent later.
    ("abrocitinib", "EU", "treatment", "anc", "1.1", "10^9/L", None, "none", None),
    ("abrocitinib", "EU", "treatment", "hb", "9.0", "g/dL", None, "none", None),
    # On treatment: "platelets <50×10³/mm³ discontinue; ALC <0.5×10³/mm³ interrupt, restart when
    # above, discontinue if confirmed (EU); ANC <1×10³/mm³ and Hb <8 g/dL interrupt, restart when above".
    ("abrocitinib", "US", "treatment", "platelets", "49999", "cells/mm3", None, "discontinue", "abrocitinib.platelets.discontinue"),
    ("abrocitinib", "US", "treatment", "platelets", "50000", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "treatment", "platelets", "50001", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "treatment", "platelets", "100000", "cells/mm3", None, "none", None),
    ("abrocitinib", "EU", "treatment", "platelets", "49.9", "10^9/L", None, "discontinue", "abrocitinib.platelets.discontinue"),
    ("abrocitinib", "EU", "treatment", "platelets", "50", "10^9/L", None, "none", None),
    ("abrocitinib", "EU", "treatment", "platelets", "50.1", "10^9/L", None, "none", None),
    ("abrocitinib", "US", "treatment", "alc", "499", "cells/mm3", None, "interrupt", "abrocitinib.alc.interrupt"),
    ("abrocitinib", "US", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "treatment", "alc", "501", "cells/mm3", None, "none", None),
    ("abrocitinib", "EU", "treatment", "alc", "0.499", "10^9/L", None, "discontinue", "abrocitinib.alc.discontinue.eu"),
    ("abrocitinib", "EU", "treatment", "alc", "0.5", "10^9/L", None, "none", None),
    ("abrocitinib", "UK", "treatment", "alc", "0.501", "10^9/L", None, "none", None),
    ("abrocitinib", "US", "treatment", "anc", "999", "cells/mm3", None, "interrupt", "abrocitinib.anc.interrupt"),
    ("abrocitinib", "US", "treatment", "anc", "1000", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "treatment", "anc", "1001", "cells/mm3", None, "none", None),
    ("abrocitinib", "EU", "treatment", "anc", "0.999", "10^9/L", None, "interrupt", "abrocitinib.anc.interrupt"),
    ("abrocitinib", "US", "treatment", "hb", "7.9", "g/dL", None, "interrupt", "abrocitinib.hb.interrupt"),
    ("abrocitinib", "US", "treatment", "hb", "8.0", "g/dL", None, "none", None),
    ("abrocitinib", "US", "treatment", "hb", "8.1", "g/dL", None, "none", None),
    ("abrocitinib", "EU", "treatment", "hb", "79", "g/L", None, "interrupt", "abrocitinib.hb.interrupt"),
    ("abrocitinib", "US", "paused", "platelets", "49999", "cells/mm3", None, "discontinue", "abrocitinib.platelets.discontinue"),
    ("abrocitinib", "US", "paused", "alc", "499", "cells/mm3", None, "interrupt", "abrocitinib.alc.interrupt"),
    ("abrocitinib", "US", "paused", "alc", "500", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "paused", "alc", "501", "cells/mm3", None, "advise", "abrocitinib.alc.resume"),
    ("abrocitinib", "EU", "paused", "alc", "0.499", "10^9/L", None, "discontinue", "abrocitinib.alc.discontinue.eu"),
    ("abrocitinib", "US", "paused", "anc", "1000", "cells/mm3", None, "none", None),
    ("abrocitinib", "US", "paused", "anc", "1001", "cells/mm3", None, "advise", "abrocitinib.anc.resume"),
    ("abrocitinib", "US", "paused", "hb", "8.0", "g/dL", None, "none", None),
    ("abrocitinib", "US", "paused", "hb", "8.1", "g/dL", None, "advise", "abrocitinib.hb.resume"),
    # Ritlecitinib: "do not initiate if ALC <500/mm³ or platelets <100,000/mm³"; "platelets
    # <50,000/mm³ discontinue; ALC <500/mm³ interrupt, restart when above".
    ("ritlecitinib", "US", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "ritlecitinib.alc.no-start"),
    ("ritlecitinib", "US", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "baseline", "alc", "501", "cells/mm3", None, "none", None),
    ("ritlecitinib", "EU", "baseline", "alc", "0.499", "10^9/L", None, "do_not_start", "ritlecitinib.alc.no-start"),
    ("ritlecitinib", "EU", "baseline", "alc", "0.5", "10^9/L", None, "none", None),
    ("ritlecitinib", "EU", "baseline", "alc", "0.501", "10^9/L", None, "none", None),
    ("ritlecitinib", "US", "baseline", "platelets", "99999", "cells/mm3", None, "do_not_start", "ritlecitinib.platelets.no-start"),
    ("ritlecitinib", "US", "baseline", "platelets", "100000", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "baseline", "platelets", "100001", "cells/mm3", None, "none", None),
    ("ritlecitinib", "EU", "baseline", "platelets", "99.9", "10^9/L", None, "do_not_start", "ritlecitinib.platelets.no-start"),
    ("ritlecitinib", "EU", "baseline", "platelets", "100", "10^9/L", None, "none", None),
    ("ritlecitinib", "UK", "baseline", "platelets", "100.1", "10^9/L", None, "none", None),
    ("ritlecitinib", "US", "baseline", "platelets", "49999", "cells/mm3", None, "do_not_start", "ritlecitinib.platelets.no-start"),
    ("ritlecitinib", "US", "treatment", "platelets", "49999", "cells/mm3", None, "discontinue", "ritlecitinib.platelets.discontinue"),
    ("ritlecitinib", "US", "treatment", "platelets", "50000", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "treatment", "platelets", "50001", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "treatment", "platelets", "99999", "cells/mm3", None, "none", None),
    ("ritlecitinib", "EU", "treatment", "platelets", "49.9", "10^9/L", None, "discontinue", "ritlecitinib.platelets.discontinue"),
    ("ritlecitinib", "EU", "treatment", "platelets", "50", "10^9/L", None, "none", None),
    ("ritlecitinib", "EU", "treatment", "platelets", "50.1", "10^9/L", None, "none", None),
    ("ritlecitinib", "US", "treatment", "alc", "499", "cells/mm3", None, "interrupt", "ritlecitinib.alc.interrupt"),
    ("ritlecitinib", "US", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "treatment", "alc", "501", "cells/mm3", None, "none", None),
    ("ritlecitinib", "EU", "treatment", "alc", "0.499", "10^9/L", None, "interrupt", "ritlecitinib.alc.interrupt"),
    ("ritlecitinib", "EU", "treatment", "alc", "0.5", "10^9/L", None, "none", None),
    ("ritlecitinib", "UK", "treatment", "alc", "0.501", "10^9/L", None, "none", None),
    ("ritlecitinib", "US", "paused", "platelets", "49999", "cells/mm3", None, "discontinue", "ritlecitinib.platelets.discontinue"),
    ("ritlecitinib", "US", "paused", "alc", "499", "cells/mm3", None, "interrupt", "ritlecitinib.alc.interrupt"),
    ("ritlecitinib", "US", "paused", "alc", "500", "cells/mm3", None, "none", None),
    ("ritlecitinib", "US", "paused", "alc", "501", "cells/mm3", None, "advise", "ritlecitinib.alc.resume"),
    ("ritlecitinib", "EU", "paused", "alc", "0.501", "10^9/L", None, "advise", "ritlecitinib.alc.resume"),
]

# Baricitinib's cut-offs depend on the indication: RA/AD/AA vs hospitalised COVID-19 (reference §2.2:
# "interrupt, then restart once the value recovers - there are no discontinue bands").
# (drug, indication, jurisdiction, phase, analyte, value, unit, action, rule or None)
INDICATION_ROWS = [
    # RA/AA: "initiation not recommended if ALC <500, ANC <1000 or Hb <8 g/dL".
    ("baricitinib", "ra", "US", "baseline", "alc", "499", "cells/mm3", "do_not_start", "baricitinib.alc.no-start"),
    ("baricitinib", "ra", "US", "baseline", "alc", "500", "cells/mm3", "none", None),
    ("baricitinib", "ra", "US", "baseline", "alc", "501", "cells/mm3", "none", None),
    ("baricitinib", "ra", "EU", "baseline", "alc", "0.499", "10^9/L", "do_not_start", "baricitinib.alc.no-start"),
    ("baricitinib", "ad", "EU", "baseline", "alc", "0.5", "10^9/L", "none", None),
    ("baricitinib", "ra", "UK", "baseline", "alc", "0.501", "10^9/L", "none", None),
    ("baricitinib", "ra", "US", "baseline", "anc", "999", "cells/mm3", "do_not_start", "baricitinib.anc.no-start"),
    ("baricitinib", "aa", "US", "baseline", "anc", "1000", "cells/mm3", "none", None),
    ("baricitinib", "ra", "US", "baseline", "anc", "1001", "cells/mm3", "none", None),
    ("baricitinib", "ra", "EU", "baseline", "anc", "0.999", "10^9/L", "do_not_start", "baricitinib.anc.no-start"),
    ("baricitinib", "ra", "EU", "baseline", "anc", "1.0", "10^9/L", "none", None),
    ("baricitinib", "ra", "US", "baseline", "hb", "7.9", "g/dL", "do_not_start", "baricitinib.hb.no-start"),
    ("baricitinib", "ra", "US", "baseline", "hb", "8.0", "g/dL", "none", None),
    ("baricitinib", "ra", "US", "baseline", "hb", "8.1", "g/dL", "none", None),
    ("baricitinib", "ra", "EU", "baseline", "hb", "79", "g/L", "do_not_start", "baricitinib.hb.no-start"),
    ("baricitinib", "ad", "EU", "baseline", "hb", "80", "g/L", "none", None),
    # RA/AA: "interrupt if <500 until ≥500"; ANC "<1000 until ≥1000"; Hb "<8 until ≥8".
    ("baricitinib", "ra", "US", "treatment", "alc", "499", "cells/mm3", "interrupt", "baricitinib.alc.interrupt"),
    ("baricitinib", "ra", "US", "treatment", "alc", "500", "cells/mm3", "none", None),
    ("baricitinib", "ra", "US", "treatment", "alc", "501", "cells/mm3", "none", None),
    ("baricitinib", "ra", "EU", "treatment", "alc", "0.499", "10^9/L", "interrupt", "baricitinib.alc.interrupt"),
    ("baricitinib", "ra", "EU", "treatment", "alc", "0.5", "10^9/L", "none", None),
    ("baricitinib", "ra", "US", "treatment", "anc", "999", "cells/mm3", "interrupt", "baricitinib.anc.interrupt"),
    ("baricitinib", "ra", "US", "treatment", "anc", "1000", "cells/mm3", "none", None),
    ("baricitinib", "ra", "EU", "treatment", "anc", "0.999", "10^9/L", "interrupt", "baricitinib.anc.interrupt"),
    ("baricitinib", "ad", "EU", "treatment", "anc", "1.001", "10^9/L", "none", None),
    ("baricitinib", "ra", "US", "treatment", "hb", "7.9", "g/dL", "interrupt", "baricitinib.hb.interrupt"),
    ("baricitinib", "ra", "US", "treatment", "hb", "8.0", "g/dL", "none", None),
    ("baricitinib", "aa", "EU", "treatment", "hb", "79", "g/L", "interrupt", "baricitinib.hb.interrupt"),
    ("baricitinib", "ra", "EU", "treatment", "hb", "81", "g/L", "none", None),
    ("baricitinib", "ra", "US", "paused", "alc", "499", "cells/mm3", "interrupt", "baricitinib.alc.interrupt"),
    ("baricitinib", "ra", "US", "paused", "alc", "500", "cells/mm3", "advise", "baricitinib.alc.resume"),
    ("baricitinib", "ra", "EU", "paused", "anc", "1.0", "10^9/L", "advise", "baricitinib.anc.resume"),
    ("baricitinib", "ra", "EU", "paused", "hb", "80", "g/L", "advise", "baricitinib.hb.resume"),
    ("baricitinib", "ra", "US", "paused", "hb", "7.9", "g/dL", "interrupt", "baricitinib.hb.interrupt"),
    # COVID-19: do not start / "interrupt if <200 until ≥200" (ALC), "<500 until ≥500" (ANC); no Hb rule.
    ("baricitinib", "covid-19", "US", "baseline", "alc", "199", "cells/mm3", "do_not_start", "baricitinib.alc.no-start.covid"),
    ("baricitinib", "covid-19", "US", "baseline", "alc", "200", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "alc", "201", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "alc", "0.199", "10^9/L", "do_not_start", "baricitinib.alc.no-start.covid"),
    ("baricitinib", "covid-19", "US", "baseline", "alc", "0.3", "10^9/L", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "anc", "499", "cells/mm3", "do_not_start", "baricitinib.anc.no-start.covid"),
    ("baricitinib", "covid-19", "US", "baseline", "anc", "500", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "anc", "501", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "anc", "0.8", "10^9/L", "none", None),
    ("baricitinib", "covid-19", "US", "baseline", "hb", "7.0", "g/dL", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "alc", "199", "cells/mm3", "interrupt", "baricitinib.alc.interrupt.covid"),
    ("baricitinib", "covid-19", "US", "treatment", "alc", "200", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "alc", "201", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "alc", "300", "cells/mm3", "none", None),
    ("baricitinib", "ra", "US", "treatment", "alc", "300", "cells/mm3", "interrupt", "baricitinib.alc.interrupt"),
    ("baricitinib", "covid-19", "US", "treatment", "anc", "499", "cells/mm3", "interrupt", "baricitinib.anc.interrupt.covid"),
    ("baricitinib", "covid-19", "US", "treatment", "anc", "500", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "anc", "0.501", "10^9/L", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "anc", "800", "cells/mm3", "none", None),
    ("baricitinib", "covid-19", "US", "treatment", "hb", "7.0", "g/dL", "none", None),
    ("baricitinib", "covid-19", "US", "paused", "alc", "199", "cells/mm3", "interrupt", "baricitinib.alc.interrupt.covid"),
    ("baricitinib", "covid-19", "US", "paused", "alc", "200", "cells/mm3", "advise", "baricitinib.alc.resume.covid"),
    ("baricitinib", "covid-19", "US", "paused", "anc", "499", "cells/mm3", "interrupt", "baricitinib.anc.interrupt.covid"),
    ("baricitinib", "covid-19", "US", "paused", "anc", "0.5", "10^9/L", "advise", "baricitinib.anc.resume.covid"),
]


def run(library, drug, jurisdiction, phase, analyte, value, unit, previous, indication=None):
    return evaluate(
        drug=library.drugs[drug].rules,
        protocol=library.protocols["default"].rules,
        analyte=analyte,
        value=Decimal(value),
        unit=unit,
        jurisdiction=jurisdiction,
        indication=indication,
        phase=phase,
        previous=Decimal(previous) if previous else None,
    )


@pytest.mark.parametrize("drug,jurisdiction,phase,analyte,value,unit,previous,action,rule", ROWS)
def test_threshold_outcome(library, drug, jurisdiction, phase, analyte, value, unit, previous, action, rule):
    outcome = run(library, drug, jurisdiction, phase, analyte, value, unit, previous)
    assert outcome.action == action, outcome
    if rule is None:
        assert outcome.findings == ()
    else:
        assert outcome.findings[0].rule_id == rule
        assert outcome.findings[0].source and outcome.findings[0].text


@pytest.mark.parametrize("drug,indication,jurisdiction,phase,analyte,value,unit,action,rule", INDICATION_ROWS)
def test_threshold_outcome_for_indication(library, drug, indication, jurisdiction, phase, analyte, value, unit,
                                          action, rule):  # fmt: skip
    outcome = run(library, drug, jurisdiction, phase, analyte, value, unit, None, indication=indication)
    assert outcome.action == action, outcome
    if rule is None:
        assert outcome.findings == ()
    else:
        assert outcome.findings[0].rule_id == rule
        assert outcome.findings[0].source and outcome.findings[0].text


def test_abrocitinib_eu_lymphopenia_discontinue_asks_for_confirmation(library):
    # "ALC <0.5×10³/mm³: interrupt; ... discontinue if confirmed (EU)": the discontinue finding is
    # flagged for confirmation, and the interrupt finding is still given.
    outcome = run(library, "abrocitinib", "EU", "treatment", "alc", "0.4", "10^9/L", None)
    assert [(f.rule_id, f.confirm) for f in outcome.findings] == [
        ("abrocitinib.alc.discontinue.eu", True), ("abrocitinib.alc.interrupt", False)]  # fmt: skip


PHASE_FOR = {"do_not_start": "baseline", "interrupt": "treatment", "discontinue": "treatment",
             "advise": "treatment", "resume": "paused"}  # fmt: skip


def test_every_threshold_fires_on_its_side_of_each_cut_off(library):
    """Every threshold in every file, evaluated at each bound and just beyond it, fires exactly
    when the label's `<`, `≤`, `>` or `≥` says (so no rule is unreachable or off by one)."""
    step = Decimal("0.001")
    checked = 0
    for code, loaded in library.drugs.items():
        for rule in loaded.rules.thresholds:
            if rule.band is None:
                continue
            bounds = [b for b in (rule.band.lt, rule.band.le, rule.band.gt, rule.band.ge) if b is not None]
            for value in {v for b in bounds for v in (b - step, b, b + step) if v >= 0}:
                outcome = evaluate(
                    drug=loaded.rules, protocol=None, analyte=rule.analyte, value=value, unit=rule.unit,
                    jurisdiction=(rule.jurisdictions or loaded.rules.drug.jurisdictions)[0],
                    indication=(rule.indications or [None])[0], phase=(rule.phases or [PHASE_FOR[rule.action]])[0],
                )  # fmt: skip
                fired = rule.id in {f.rule_id for f in outcome.findings}
                assert fired == rule.band.contains(value), (code, rule.id, value)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("field,kwargs", [
    ("unit", {"analyte": "hb", "unit": "mmHg"}),
    ("analyte", {"analyte": "sodium", "unit": "mmol/L"}),
    ("phase", {"analyte": "hb", "unit": "g/dL", "phase": "later"}),
])  # fmt: skip
def test_bad_input_names_the_field(library, field, kwargs):
    kwargs = {"phase": "treatment", **kwargs}
    with pytest.raises(UnitError) as err:
        run(library, "tofacitinib", "US", kwargs["phase"], kwargs["analyte"], "1", kwargs["unit"], None)
    assert err.value.field == field
