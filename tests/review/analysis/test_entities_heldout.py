"""Entity extraction on the held-out corpora, written apart from the rules.

The corpora are `tests/review/corpus/heldout*.txt`, each written blind; `HELDOUT.md`
says which are development sets now (measured, then open to tuning) and which are held
out (never read by whoever tunes the rules: `heldout4.txt` ... `heldout49.txt`,
`heldout63.txt` and `heldout67.txt` as of session 21). `RAAZDAR_HELDOUT` names a fresh
blind corpus to score in a corpus's place. Only aggregate figures are printed. The floors
are what the extractor reached on each (issue 18's targets in comments); they guard
against regressions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from review.analysis.entities import Entity, extract
from tests.review.corpus import heldout

CORPORA = Path(heldout.__file__).parent

# heldout.txt, the first held-out corpus, measured once blind after the extractor was
# frozen (2026-12-02): P 0.907, R 0.870, F1 0.888; person F1 0.758; links 81.0 %; 22
# false links counted as corroboration. It has since been read and tuned on (issue 18's
# second round), so it is a development set now.
# Second round: the scorer placed "Haji Bashir" (listed after "Haji Bashir Ahmed") inside
# the longer mention, so a right answer counted as a miss and a false link (person F1
# 0.758 was 0.919 once fixed); a name is strong between two reports only where both are
# set at one station (or district, when neither names a station) and under ranks one man
# could hold (`review/data/roles.txt`); a station with no district near takes the one of
# the report's other stations, or the report's first district named before it; words
# the lists lack are matched across scripts by their consonants; a short mention of a
# name the report gives in full is a person; "ہوں" after a rank, firms and airports are
# not. F1 0.962, person F1 0.976, links 88.4 %, 0 false links counted (65 shown weak),
# right person/station links counted as corroboration 135 of 185.
#
# heldout2.txt, written blind the same day by an annotator who never read the extractor,
# its lists or its tests, scored once after the second round was frozen: F1 0.949, person
# F1 0.979, links 459 of 552 (83.2 %), 4 false links counted as corroboration (person),
# 34 shown weak, right person/station links counted 147 of 204. It has since been read
# and tuned on (issue 18's third round), so it is a development set now, like heldout.txt:
# its figures below say what the rules do on text they were fitted to, not on new text.
# Third round, by class of error, never by one report's string (each class has reports
# in reports.txt and tests in test_entities.py): towns (tehsil seats, border and port
# towns) are places keyed as themselves and set a report in their district
# (data/towns.txt: district recall 0.791 -> 1.000); a town's own station takes the town's
# district; Roman Urdu's oblique "thane" after a station's name; a station with no district
# near takes what the writer said before it; قصور before کا/کی; an agency and its wing
# are one mention ("FIA Anti-Human Trafficking Circle"), and "police" in a report set in
# one province is that province's force (agency precision 0.922 -> 1.000); plates in
# lower case after a vehicle's word; conductor, naib risaldar, woman, maid are
# designations; a title with an honorific after a name begins another; days in Urdu
# words, a month alone after "in". The 4 false links counted were one middleman and one
# ASI of one name in one district, the middleman's report setting no station (its
# "civil lines thane" was missed), and a conductor and a Levies officer of one name
# (conductor was no designation): both classes are fixed, the links now shown weak (so
# weak false links rose 34 -> 43: these, and right names now found that meet a namesake).
# After: F1 0.996, person F1 0.991, links 511 of 552 (92.6 %), 0 false links counted,
# 43 shown weak, right links counted 166 of 222; on heldout.txt F1 0.992, person F1
# 0.988, links 436 of 448 (97.3 %), 0 counted, 65 weak, right counted 149 of 185.
#
# heldout3.txt, written blind the same day by a third annotator who never read the
# extractor, its lists, its tests nor the other corpora (set in KP, Balochistan, Sindh,
# south Punjab, AJK/GB and Islamabad), never tuned on: scored before the third round
# F1 0.895, person F1 0.852, links 415 of 628 (66.1 %), 0 false links counted; after it
# (the figures that count) F1 0.916, person F1 0.855, district recall 0.811, links 437
# of 628 (69.6 %), 0 false links counted as corroboration, 35 shown weak, right
# person/station links counted 97 of 133. Names and places of regions the lists barely
# cover are what it misses (person recall 0.754). A change made because of this corpus
# ends its use as held out: write a fourth.
#
# Fourth round (regional lists: districts, towns, names of Sindh, KP, Balochistan, AJK and
# GB; compounds written apart; stations named after their town or by a letter; one Roman
# Urdu name before "ne"/"sahib"), tuned on neither heldout3.txt nor heldout4.txt: heldout.txt
# F1 0.996, person F1 0.996, links 438 of 448 (97.8 %), 0 counted, 65 weak; heldout2.txt
# unchanged. Short forms linked to full names (`links.short_form_links`, not yet shown by
# the review tool) would make 444 of 448 and 527 of 552, none false and strong.
#
# After that round, scored once each (aggregates only): heldout3.txt F1 0.959, person F1
# 0.914, links 491 of 628 (78.2 %), 0 counted, 35 weak, right counted 118 of 164. Whoever
# tuned that round had read HELDOUT.md's description of heldout3.txt (its regions and
# kinds of name), so from here it is a development set. heldout4.txt, written blind by a
# fourth annotator in session 7 (HELDOUT.md) and never read by whoever tunes: before the
# round F1 0.898, person F1 0.837, links 378 of 576 (65.6 %), 0 counted, 17 weak, right
# counted 43 of 102; after it F1 0.932, person F1 0.876, links 404 of 576 (70.1 %),
# 0 counted, 17 weak, right counted 49 of 108. Fifth round (short forms of a name and an
# agency's bare name linked to the full name or wing in reports set at one place, shown
# weak unless strict conditions hold; the scorer counts every link the tool makes, strong
# or weak), tuned on heldout3.txt and never on heldout4.txt: heldout4.txt links 441 of 576
# (76.6 %), 0 false counted, short-form links 39 right (none counted), 5 false shown weak.
# heldout5.txt, written blind by a fifth annotator who read none of the other corpora
# nor their descriptions, scored once then: F1 0.947, person F1 0.938, links 428 of 521
# (82.1 %), 0 counted, 49 weak. Sixth round (given names of every community, naming
# cues, Roman spellings of one name keyed alike, two-letter plates after a vehicle's
# word), tuned on heldout3.txt, never on heldout4.txt or heldout5.txt: heldout4.txt
# F1 0.937, person F1 0.890, links 457 of 576 (79.3 %), 0 counted, 23 weak, right counted
# 52 of 121; heldout5.txt F1 0.951, person F1 0.945, links 438 of 521 (84.1 %), 0 counted,
# 49 weak, right counted 146 of 201. Both are held out: tune on neither.
#
# Issue 18's targets: F1 0.90, person F1 0.85, links 85 %, no false link counted as
# corroboration. On the blind heldout4.txt and heldout5.txt: F1, person F1 and false
# links met; links (79.3 % and 84.1 %) not. The floors are the figures reached, rounded
# down, so a regression fails.
#
# Fifth round (issue 18, helper ent4): the review tool shows short-form links
# (`links.short_form_links`), and the scorer counts a link as made when the tool makes it,
# by one key or by a short form (strong or weak: a weak link is made and shown, it only
# does not count as corroboration). A short-form link whose two sides share no gold id is
# false: counted as corroboration if strong (in the false links, held at 0), else shown
# weak and counted apart, so the weak floors below keep their meaning. Links missed are
# printed by kind and cause (a mention not found, or found in both but keyed apart).
# Scorer alone, no rule changed: heldout.txt links 444 of 448 (99.1 %), heldout2.txt 527
# of 552 (95.5 %), heldout3.txt 557 of 628 (88.7 %); none false counted. A given name
# alone ("Mumtaz") links weakly to a full name it starts, between reports set at one
# station or district (`links.given_name`): heldout3.txt 567 of 628 (90.3 %), no false
# link more, strong or weak; heldout.txt 445 of 448. "fia immigration" in lower case is
# the wing; an agency bare ("FIA") meets its one wing named in reports set in its
# district ("FIA Anti-Human Trafficking Circle"), as context (`links.wing_links`;
# data/agency_wings.txt), never where two wings are named there: heldout3.txt 573 of 628
# (91.2 %), 3 right wing links, none false; heldout2.txt 533 of 552 (96.6 %), 1 right,
# 1 false (context: never shown as a link, never corroboration). A mobile number grouped
# 4-3 ("0300 3314 829"), Bahawalpur's "bwp" in lower case, مینگورہ for Mingora:
# heldout3.txt F1 0.962, links 578 of 628 (92.0 %), none false counted.
# Then short-form links only between reports that name one place (a district or a
# station; strong only when both are set there, as before), and none for a short form
# that more than `links.MOST_NAMES` full names there could be: a surname alone says too
# little of a man named only elsewhere (45 of the 131 short-form links it made on
# heldout3.txt were false, shown weak), and linking it to every namesake in every place
# grew as the square of the reports (a synthetic workspace of 4,000 built in 34 s; 1.6 s
# now, 1.2 s before short forms). After: heldout.txt links 445 of 448 (99.3 %),
# short-form links right 23, false weak 1; heldout2.txt 533 of 552 (96.6 %), right 21,
# false weak 6; heldout3.txt 581 of 628 (92.5 %), right 89 (29 counted as
# corroboration), false weak 6; none false counted anywhere.
#
# Session 8: two corpora written blind the same way, heldout6.txt and heldout7.txt.
# heldout6.txt, scored once blind on session 7's extractor (F1 0.969, person F1 0.962,
# links 762 of 873 (87.3 %), 3 false person links counted: two men keyed "gul khan" in
# one district, 50 weak), then given to three tuners (people found, keys joining one
# name's spellings, everything but people found) as a development set; heldout7.txt was
# read by no one. After the round, scored once each (aggregates only), tuned on neither
# heldout4.txt, heldout5.txt nor heldout7.txt: heldout4.txt F1 0.955, person F1 0.915,
# links 475 of 576 (82.5 %, was 79.3), 0 false counted, 28 weak; heldout5.txt F1 0.965,
# person F1 0.945, links 458 of 521 (87.9 %, was 84.1), 0 counted, 49 weak; heldout7.txt
# F1 0.975, person F1 0.956, links 576 of 684 (84.2 %), 0 counted, 26 weak. heldout6.txt
# after tuning: F1 0.992, person F1 0.977, links 818 of 873 (93.7 %), 0 counted, 57 weak.
# Right links of a person or station that count as corroboration
# without a reviewer: the strength rules must not buy "no false link" by making every
# link weak.
FLOORS = {
    # file: (F1, person F1, links, most false links counted, most weak, right strong)
    # Session 40: a name a report gives only as hearsay ("people say", "the munshi said",
    # "log kehte hain ke", "سنا ہے کہ"; test_hearsay.py) links weakly, as the man said not to
    # be the one does. The corpora's labels say who a name is, not whether the writer saw
    # him, so such links are right links that no longer count: 32 corpora's right strong
    # floors fell by 0.01 to 0.04 (development right strong 4,957 -> 4,861 of 14,527;
    # held out 1,372 -> 1,340 of 4,197), no other figure moved.
    "heldout.txt": (0.99, 1.00, 1.00, 0, 65, 0.40),
    # heldout2.txt: "Gul" listed as a common name word (session 8) leaves "gul khan" weak
    # unless something else tells the man apart: right strong 168 -> 153 of 224.
    # heldout2.txt: a short form carries what its report says of the full name (session
    # 10), so two right links whose other side was given a wrong rank (a name run on into
    # the next, "sho arshad mehmood naseem bibi") now conflict: right strong 153 -> 152.
    "heldout2.txt": (0.99, 0.99, 0.97, 0, 43, 0.34),
    # heldout3.txt: session 10's second round finds more men whose right links are weak
    # (one-word names, women's names no longer run on): right strong 134 of 188 -> 135 of 193.
    "heldout3.txt": (0.99, 0.98, 0.97, 0, 35, 0.38),
    # Session 9's tuners (people, keys, places) on heldout8.txt and heldout9.txt; the held-out
    # corpora scored after, in aggregate only: heldout4.txt F1 0.965, person F1 0.934, links
    # 484 of 576 (84.0 %), 0 false counted, 24 weak; heldout5.txt links 465 of 521 (89.3 %);
    # heldout7.txt links 586 of 684 (85.7 %).
    # Session 10's key merges (names.txt lines sharing a spelling, names in parts) cost
    # heldout4.txt one link and one right strong one (aggregates only): 484 -> 483 of 576.
    # After session 10's second round (people found by case endings after a rank, Sindhi
    # names; stations that imply their city, FIA at an airport as its Immigration wing):
    # links 491 of 576 (85.2 %), right strong 64 of 144; issue 18's 85 % reached.
    "heldout4.txt": (0.97, 0.93, 0.87, 0, 23, 0.23),
    # heldout5.txt: a source's warning that its man is another of his name keeps links on
    # the name weak (`namesakes`, session 9; scored in aggregate only): right strong 150 ->
    # 148 of 205.
    "heldout5.txt": (0.97, 0.95, 0.91, 0, 49, 0.42),
    # heldout6.txt: a source that says its Gul Khan "is not the Levies one" keeps links on
    # that name weak (`namesakes`, session 9): right strong 192 -> 190 of 313.
    "heldout6.txt": (0.99, 0.98, 0.94, 0, 57, 0.25),
    # heldout7.txt: a man placed by his name, or named as the writer's kin against a post
    # (`homes`, session 10, from heldout11.txt's false links): right strong 136 -> 135 of
    # 208 (aggregate only).
    # Session 10's second round: right strong 130 of 204 (one right link more, weak).
    "heldout7.txt": (0.98, 0.96, 0.86, 0, 26, 0.29),
    # Session 9: two more corpora written blind (southern Punjab and interior Sindh; KP,
    # Hazara, the Potohar and Balochistan's coast), each scored once blind on session 8's
    # extractor, then given to the tuners as development sets. heldout8.txt: F1 0.984,
    # person F1 0.982, links 613 of 677 (90.5 %), 0 false counted, 51 weak. heldout9.txt:
    # F1 0.977, person F1 0.955, links 850 of 916 (92.8 %), but 36 false links counted as
    # corroboration (person 33, station 3) and 84 weak: its writer set namesakes and
    # same-named stations in several districts, one report naming both Civil Lines. One
    # label was missing ("city thana" in Mansehra, found and keyed right: 3 of the
    # station links); the 33 person links joined three pairs of namesakes whose reports
    # each said the man was not the other ("is NOT the SHO from Kohat", "chakwal wala
    # nahi", "پولیس والا نہیں"). A source's warning now keeps links on that name weak
    # (`review.analysis.namesakes`): 0 false links counted, 117 weak.
    # heldout8.txt, tuned on (session 9, keys): a short form with the surname, or a family's
    # title and the given name of one full name, meets the full name in reports set apart
    # too, weakly: links 615 -> 638 of 677, no false short-form link more. After the three
    # tuners' branches met (people read four-word Urdu names whole, places found more towns
    # and stations): links 648 of 677 (95.7 %); right links counted strong 123 of 200 (of
    # 198 on the keys branch alone): the two right links more are weak, so the share falls
    # under 0.62 with no strong link lost.
    "heldout8.txt": (0.99, 1.00, 0.96, 0, 46, 0.3),
    "heldout9.txt": (0.99, 0.99, 0.97, 0, 117, 0.26),
    # heldout10.txt, written blind in session 9 (central and northern Punjab, Karachi) and
    # held out: scored first on session 9's main (F1 0.957, person F1 0.922, links of
    # 729 (89.4 %), 0 false counted, 64 weak), then on the merged tuners' work: F1 0.964,
    # person F1 0.946, links 674 of 729 (92.5 %), 0 false counted, 65 weak, right links
    # counted strong 146 of 295.
    # Session 10's tuners (a station keyed with the district of the town its report is set
    # in, towns, plates, people's cues, key merges), scored after in aggregate: links 674 ->
    # 680 of 729 (93.3 %), none false; right links counted strong 146 of 295 -> 143 of 292.
    "heldout10.txt": (0.97, 0.94, 0.93, 0, 65, 0.11),
    # Session 10: two corpora written blind (upper Sindh and Balochistan's plains; ICT,
    # Rawalpindi, AJK, Gilgit-Baltistan and the Potohar), scored blind on the merged tuners'
    # work: heldout11.txt F1 0.961, person F1 0.934, links 946 of 1099 (86.1 %), 5 FALSE
    # person links counted, 38 weak; heldout12.txt F1 0.977, person F1 0.963, links 1057 of
    # 1177 (89.8 %), 16 FALSE links counted (person 13, station 3), 56 weak. Both writers
    # set namesakes the way life does: an ASI "larkana wala" and a kiln owner of his name
    # in one district, a writer's brother and a Levies naib risaldar, a munshi whose source
    # says he is "not the FIA man", bare "Thana City" in a Jhelum report. Then development
    # sets (`homes`: a man placed by his name, the writer's kin against a post, a kept rank
    # beside a namesake warning, a bare station in a report of one district): heldout11.txt
    # 2 false counted (a naib risaldar at a checkpost in a report that names the hari's
    # district as where its boys come from); heldout12.txt 5 (two links of an FIA man
    # named only in passing; three of an airport "police post" its writer did not label a
    # station, keyed with the airport's thana).
    # heldout11.txt after the people tuner's second round (Sindhi and Baloch names, an
    # everyday word after a rank read as the name before a case ending): person F1 0.932
    # -> 0.982, links 963 -> 1003; the new right links are mostly one-word names, weak.
    "heldout11.txt": (0.99, 0.98, 0.94, 0, 44, 0.17),
    "heldout12.txt": (0.98, 0.98, 0.94, 0, 71, 0.13),
    # heldout13.txt (Faisalabad to Layyah) and heldout14.txt (lower Sindh, Karachi's edge,
    # Thar), written blind in session 10 by writers asked to give recurring people the
    # names of other, different people as life does. heldout13.txt, scored blind after the
    # rules above: F1 0.980, links 902 of 965 (93.5 %), 5 false person links counted; then
    # read (a short form now carries its full name's rank: 3); a development set.
    # heldout14.txt, held out, scored blind at that point: F1 0.962, person F1 0.939, links
    # 830 of 911 (91.1 %), 2 FALSE person links counted, 51 weak.
    "heldout13.txt": (0.99, 1.00, 0.95, 0, 63, 0.2),
    # heldout14.txt after session 10's tuners (aggregates): links 838 of 911 (92.0 %), the
    # same 2 false person links counted, 51 weak, right strong 148 of 240.
    "heldout14.txt": (0.97, 0.95, 0.92, 0, 52, 0.23),
    # Session 11: two more corpora written blind the same way (heldout15.txt: southern KP,
    # Sialkot, Narowal, Gujrat; heldout16.txt: Lahore, Kasur, Nankana, north Balochistan),
    # scored blind on session 10's rules: heldout15.txt links 708 of 758 (93.4 %), 17 FALSE
    # person links counted; heldout16.txt 781 of 884 (88.3 %), 14 FALSE counted. Then on
    # the rules below, still blind: 3 and 8. Then read: development sets.
    # The rules (tests: test_posts.py, test_one_telling_word.py): a man in a post against a
    # report that gives his name no rank and shares no station with his is weak; a police
    # post is keyed apart from the thana of its name; a title said as an alias is the man's;
    # a rank before a naming word is the man's; an agent and a broker are two trades; a name
    # of one telling word, unranked on both sides, in reports set at different stations is
    # weak. Every development set: 0 false counted but heldout16.txt's 2 (a broker and a
    # man named beside an agent, in one district). Right links counted strong fall where a
    # report names an officer without his rank or station (heldout.txt 151 -> 141 of 187,
    # heldout6.txt 191 -> 175 of 315, heldout9.txt 185 -> 171 of 293, heldout12.txt 197 ->
    # 175 of 381): shown weak for a reviewer to confirm. Held out, in aggregate: heldout14.txt
    # false counted 2 -> 1, right strong 148 -> 144 of 240; heldout4/5/7/10.txt still 0,
    # right strong 64 -> 60 of 144, 149 -> 145 of 206, 130 -> 123 of 204, 143 -> 131 of 295.
    "heldout15.txt": (0.98, 0.98, 0.94, 0, 162, 0.41),
    "heldout16.txt": (0.97, 0.97, 0.88, 0, 162, 0.24),
    # Two more written blind after those rules (heldout17.txt: Karachi and lower Sindh;
    # heldout18.txt: Gujranwala to Mianwali, Peshawar to Swabi), scored blind on them and on
    # session 10's: heldout17.txt F1 0.985, links 650 of 725 (89.7 %), false counted 8 -> 6;
    # heldout18.txt F1 0.978, person F1 0.947, links 563 of 655 (86.0 %), false counted 9 -> 0,
    # right strong 119 -> 118 of 166. heldout17.txt was then read (a victim's father, "a
    # labourer", and a landlord's kamdar of one name: a labourer is no kamdar, and "baap" is a
    # father): 3 false counted left, a girl's father against the kamdar (kin against a trade:
    # on every development set such pairs were otherwise the agent's own son or brother, 5
    # right links). heldout18.txt is held out.
    "heldout17.txt": (0.98, 0.97, 0.91, 0, 115, 0.34),
    "heldout18.txt": (0.98, 0.96, 0.88, 0, 79, 0.31),
    # Two more written blind by writers given no example names (heldout19.txt: Multan to
    # Rahim Yar Khan and Ghotki; heldout20.txt: Islamabad, Rawalpindi, Jhelum, Mirpur,
    # Hazara). heldout19.txt scored blind on the rules above: links 640 of 695 (92.1 %),
    # 9 FALSE counted (21 on session 10's rules); heldout20.txt on those and a stricter rule
    # tried then (a one-telling-word name strong only at one station or under one rank): 9
    # FALSE (9 on session 10's), the stricter rule catching none of them for 28 right links
    # made weak, so it was dropped. Both then read: "Abdul", "Ghulam" and "Allah" tell no
    # one apart (`common_names.txt`); a one-telling-word name between reports at different
    # stations needs one rank; "property dealer", "matchmaker" (رشتہ کروانے والا, "rishta
    # wala") are brokers' trades; "X, the Gujar Khan agent", "their village agent was X".
    # heldout19.txt 9 -> 0, heldout20.txt 9 -> 0; every other development set as before;
    # held out, in aggregate: heldout14.txt 1 false counted, right strong 144 -> 141 of 240;
    # heldout18.txt 0, right strong 118 -> 112 of 166, links 563 -> 565; heldout7.txt 123 ->
    # 122 of 204; heldout4/5/10.txt unchanged.
    "heldout19.txt": (0.97, 0.95, 0.92, 0, 131, 0.30),
    "heldout20.txt": (0.98, 0.98, 0.96, 0, 82, 0.31),
    # Two last written blind the same way (heldout21.txt: Faisalabad to Okara, Quetta to
    # Khuzdar; heldout22.txt: upper Sindh, Swat to Chitral), scored blind on the rules above:
    # heldout21.txt links 595 of 631 (94.3 %), 16 FALSE counted (person 8, station 8; 28 on
    # session 10's rules); heldout22.txt F1 0.971, links 460 of 526 (87.5 %), 3 false person
    # links counted (5 on session 10's), right strong 77 of 108: held out. heldout21.txt was
    # then read: a bare "Thana Saddar" in a story set in Depalpur was keyed with Okara and
    # met Okara's own Thana Saddar; a station keyed with a district its report names only by
    # a town in it is now weak (its designation says "district from the town ..."): station
    # false counted 8 -> 0, no link lost; right strong fell where such keys were right
    # (heldout19.txt 172 -> 159, heldout20.txt 148 -> 140; held out: heldout18.txt 112 -> 110,
    # heldout7.txt 122 -> 119, heldout5.txt 145 -> 144, heldout22.txt 77 -> 75). Its 8 person
    # links left: one name, at one station, for a munshi there and a man of no rank.
    "heldout21.txt": (0.98, 0.97, 0.94, 0, 87, 0.41),
    "heldout22.txt": (0.98, 0.97, 0.91, 0, 73, 0.39),
    # Session 12: four more written blind the same way (heldout23.txt: Sargodha to Jhang;
    # heldout24.txt: Sukkur to Kashmore; heldout25.txt: Makran and Karachi's harbour;
    # heldout26.txt: D.G. Khan to Bahawalpur), each scored blind before it was read. On
    # session 11's rules (38cfa3b): false counted 6, 2, 28, 7. heldout24.txt, read first, gave
    # "a property dealer on Military Road, Imran Ali Soomro," (a rank's name after where he
    # works); heldout21.txt's munshi "where Allah Ditta is munshi" and "a daily wager". A
    # rule fixed before heldout26.txt was scored (`links.pair_strength`: a name of one
    # telling word with a rank or trade in one report and none in the other is weak) caught
    # 5 of heldout23.txt's 6, 10 of heldout25.txt's 28 and 5 of heldout26.txt's 7 (blind: 7
    # -> 2), none of heldout24.txt's 2, for 21, 13, 10 and 1 right strong links made weak.
    # heldout25.txt then: "sarraf" (صراف, a money changer) and "mistri" (a mason) are
    # trades; "Bakhsh" and "Ditta" ("given by") tell no one apart in a one-telling-word count
    # (`common_names.txt` [B]), as "Abdul" does: its 18 "Kareem Bakhsh" links were a money
    # changer and an agent. Every development set: 4 false counted left (heldout21.txt's
    # kin against none, heldout23.txt 1, heldout26.txt 2); right strong 2,848 of 4,809
    # (59.2 %). Held out, in aggregate: false counted heldout14.txt 1, heldout22.txt 3 -> 1,
    # the others 0; right strong heldout5.txt 144 -> 135, heldout7.txt 119 -> 115,
    # heldout10.txt 131 -> 107, heldout18.txt 110 -> 100, heldout4/14/22.txt unchanged
    # (and after the station rule below, heldout18.txt 99, heldout4.txt 60 -> 59).
    "heldout23.txt": (0.97, 0.97, 0.89, 0, 147, 0.35),
    "heldout24.txt": (0.97, 0.94, 0.87, 0, 55, 0.56),
    "heldout25.txt": (0.98, 0.98, 0.94, 0, 134, 0.34),
    "heldout26.txt": (0.95, 0.92, 0.90, 0, 88, 0.31),
    # Then four more written blind (heldout27.txt: Peshawar to Nowshera; heldout28.txt:
    # Mandi Bahauddin to Kharian; heldout29.txt: Hyderabad to Umerkot; heldout30.txt: Quetta
    # to Nushki), scored blind on the rules above (on 38cfa3b): false counted 0 (0), 4 (4),
    # 4 (12), 0 (0); right strong 150 (164) of 224, 146 (162) of 232, 222 (239) of 329, 90
    # (103) of 204. heldout27.txt and heldout29.txt were then read: a police station right
    # before the man's rank places him (`homes`: an ASI of Digri police station and one of
    # Kunri, one name): heldout29.txt 4 -> 1. heldout28.txt and heldout30.txt are held out.
    "heldout27.txt": (0.98, 0.97, 0.93, 0, 81, 0.49),
    "heldout28.txt": (0.98, 0.97, 0.93, 0, 76, 0.35),
    "heldout29.txt": (0.97, 0.95, 0.91, 0, 127, 0.34),
    "heldout30.txt": (0.97, 0.96, 0.92, 0, 73, 0.28),
    # And four more (heldout31.txt: Islamabad, Attock, Taxila; heldout32.txt: Karachi's west
    # and centre; heldout33.txt: Sahiwal to Khanewal; heldout34.txt: Dadu, Jamshoro,
    # Naushahro Feroze; 32 and 34 held out, decided before they were written), scored blind
    # on the rules above (on 38cfa3b): false counted 18 (19), 5 (5), 6 (6), 1 (1); links
    # 85.4 %, 85.5 %, 91.2 %, 81.0 % (heldout34.txt is under issue 18's 85 %). heldout31.txt
    # and heldout33.txt were then read: their false links were namesakes the archive itself
    # tells apart ("Naveed Akhtar" an agent in five reports, a NADRA counter clerk in a
    # sixth: `links.crowded`, a name given ranks no one man holds, is weak where a report
    # gives none) and a roundup report naming eight stations across four districts (a report
    # naming five or more stations sets its men at none: `links.ROUNDUP`). heldout31.txt 18
    # -> 0, heldout33.txt 6 -> 2, heldout23.txt 1 -> 0; right strong fell most where a
    # roundup carried right links (heldout23.txt 280 -> 209 of 367). Held out, scored after
    # in aggregate: neither rule caught any of their false links (heldout14.txt 1,
    # heldout22.txt 1, heldout28.txt 4, heldout32.txt 5, heldout34.txt 1); right strong
    # heldout14.txt 141 -> 135, heldout18.txt 99 -> 95, heldout28.txt 146 -> 144,
    # heldout32.txt 181 -> 178, heldout34.txt 111 -> 107, heldout4.txt 59 -> 58.
    "heldout31.txt": (0.97, 0.97, 0.85, 0, 117, 0.22),
    "heldout32.txt": (0.97, 0.97, 0.90, 0, 230, 0.38),
    "heldout33.txt": (0.98, 0.97, 0.91, 0, 127, 0.43),
    # Its links floor raised in session 21 to issue 18's target (it makes 85.6 %), which
    # every held-out corpus's floor now enforces.
    "heldout34.txt": (0.95, 0.93, 0.85, 0, 88, 0.49),
    # Session 13 made the rules general, from the development sets read before: a rank or
    # trade in one report and none in the other is weak for any name (it replaced three
    # narrower rules, `crowded` among them); so is a writer's kin against a bare name, a name
    # of no telling word without ranks, and any name in reports set at different police
    # stations unless under one trade that travels (an agent's). Then four corpora written
    # blind (heldout35.txt: Rawalpindi, Chakwal, Jhelum; heldout36.txt: Sialkot, Narowal,
    # Gujrat; heldout37.txt: Hazara, Swat, Kohat; heldout38.txt: Larkana to Nawabshah; 36 and
    # 38 held out, decided before they were written), scored blind on these rules: false
    # counted 9, 8, 5, 3 (on f8d7161, session 12's rules: 10, 8, 5, 9); heldout38.txt made
    # 83.9 % of its links, under issue 18's 85 %. heldout35.txt and heldout37.txt were then
    # read (namesakes at two stations of a district, ranked alike or not at all; a writer's
    # brother-in-law against a bare name: 9 -> 1 and 5 -> 1). Held out, false counted 29 ->
    # 17 over all thirteen (heldout22.txt 1 -> 0, heldout28.txt 4 -> 2, heldout32.txt 5 -> 3,
    # heldout34.txt 1 -> 0, heldout38.txt 9 -> 3; heldout14.txt 1, heldout36.txt 8 stay);
    # right strong 1,521 -> 1,248 of 2,786 over them.
    "heldout35.txt": (0.97, 0.95, 0.90, 0, 121, 0.39),
    "heldout36.txt": (0.98, 0.98, 0.94, 0, 125, 0.27),
    "heldout37.txt": (0.99, 0.99, 0.94, 0, 107, 0.5),
    "heldout38.txt": (0.95, 0.94, 0.85, 0, 141, 0.26),
    # Then heldout39.txt (Gujranwala to Hafizabad) and heldout40.txt (held out: Bannu to
    # Tank), blind: false counted 2 and 18 (14 of them stations); heldout41.txt on the same
    # ground as 40, for development, and heldout42.txt (held out: Zhob to Sibi). A bare
    # station keyed with one of several districts its report names is a guess, weak
    # (fixed before heldout41.txt was scored: 3 -> 0 blind); heldout42.txt blind after it:
    # 4. Then a station's district taken from elsewhere in its sentence, in a report of
    # several districts, is a guess too (from a probe, not a corpus): heldout40.txt 18 ->
    # 5, heldout42.txt 4 -> 2, heldout36.txt 8 -> 5 (its 3 stations).
    "heldout39.txt": (0.99, 0.98, 0.94, 0, 182, 0.4),
    # heldout40.txt was held out to session 20; its five false links were found to be one
    # name given an SI and an Inspector (a count of ranks, no text), which the rules then
    # read: by HELDOUT.md's rule it is a development set now, and heldout63.txt holds out.
    "heldout40.txt": (0.99, 1.00, 0.96, 0, 145, 0.41),
    "heldout41.txt": (0.98, 0.99, 0.95, 0, 206, 0.25),
    "heldout42.txt": (0.95, 0.98, 0.92, 0, 134, 0.32),
    # heldout43.txt (Karachi's west, centre and east, for development), blind: false 1
    # (1 on f8d7161); its localities' stations were keyed by the migrants' home districts.
    # Karachi's localities listed (`localities.txt`): links made 80.7 -> 90.1 %, right
    # strong 51 -> 129 of 226; held out, heldout32.txt links 85.8 -> 89.3 %, heldout42.txt
    # false 2 -> 0.
    "heldout43.txt": (0.96, 0.97, 0.92, 0, 76, 0.4),
    # Session 14: heldout44.txt (Lahore's localities, for development), heldout45.txt
    # (Rawalpindi's, Islamabad's and Peshawar's, for development) and heldout46.txt (held
    # out: the localities of Lahore, Faisalabad, Multan, Gujranwala, Rawalpindi and
    # Peshawar). Blind on session 13's rules: false counted 0, 3 and 0; links made 85.0,
    # 89.5 and 91.4 %. Those cities' localities listed (`localities.txt`), a station's name
    # ended at its sentence's end, "property wala" a property dealer and a hotel's owner no
    # kiln's jamadar: heldout44.txt links 85.0 -> 89.6 %, right strong 32 -> 54 (of 118
    # -> 130); heldout45.txt false 3 -> 0, links 89.5 -> 92.9 %. Held out, heldout46.txt
    # links 91.4 -> 93.4 %, false 0; over all sixteen held out, false counted 19 -> 18
    # (heldout36.txt 5 -> 3, heldout40.txt 5 -> 6), right strong 1,560 -> 1,584.
    "heldout44.txt": (0.97, 0.97, 0.90, 0, 60, 0.24),
    "heldout45.txt": (0.97, 0.99, 0.94, 0, 108, 0.33),
    "heldout46.txt": (0.98, 0.96, 0.93, 0, 60, 0.41),
    # Session 15: the development sets' last 7 false links (heldout26, 29, 33, 35, 39 and 43)
    # were all one kind: a common full name with no rank, trade or kinship beside it in
    # either report, at one station or district, and two men. A name alone is now weak
    # (`links._by_rank_and_name`; issue 18 asks that "a bare common name" be), for a
    # reviewer to confirm from `links pending`. Development, false counted 7 -> 0, right
    # strong 3,654 -> 2,730 of 7,831 (46.7 -> 34.9 %), links made unchanged (92.6 %). Held
    # out, scored once after, in aggregate: false counted 18 -> 11 (heldout14.txt 1,
    # heldout36.txt 3, heldout38.txt 3 -> 0; heldout28.txt 2, heldout32.txt 3 and
    # heldout40.txt 6 unmoved), right strong 1,587 -> 1,183 of 3,484, links made 90.2 %.
    # Every right strong floor above moved down with it; no other figure moved.
    # Then three more corpora written blind: heldout47.txt (Bannu, Lakki Marwat, Dera Ismail
    # Khan, Tank) and heldout48.txt (Karachi's east and south, its port) for development,
    # heldout49.txt (Mirpur, Kotli, Bhimber, with Jhelum and Gujrat) held out, decided
    # before they were written. Blind on the rule above: false counted 0, 0 and 0; links made
    # 84.7, 94.6 and 91.2 %. Read, the two development sets showed names the lists lacked
    # ("Gul Agha", "Haji Lal Badshah" as لعل, "car dealer naseebullah"), "Lakki" and "لکی"
    # for Lakki Marwat, "Shah Faisal" taken for Karachi's locality after a rank ("agent Shah
    # Faisal"), and Karachi's Docks and Boat Basin stations keyed by their sounds:
    # heldout47.txt links 84.7 -> 91.1 %, heldout48.txt 94.6 -> 95.7 %. heldout29.txt's
    # "لعل بخش" is "lal bakhsh" now, two namesakes' weak links (weak false 123 -> 127).
    # Last, the names the development sets labelled most and nothing found ("فضل ربی" and
    # "fazal rabi", 27 mentions; "malik jehangir councilor"; "moharrar arshad"; an Urdu
    # compound before its rank, "عبدالغفور اے ایس آئی"): development links made 92.9 ->
    # 93.2 %, none false; held out, in aggregate, 90.5 -> 90.7 %, false 10.
    "heldout47.txt": (0.97, 0.97, 0.91, 0, 130, 0.27),
    "heldout48.txt": (0.96, 0.99, 0.96, 0, 169, 0.3),
    "heldout49.txt": (0.99, 0.99, 0.91, 0, 71, 0.33),
    # Session 16: heldout50.txt (Dadu, Jamshoro, Naushahro Feroze, Larkana, Qambar-
    # Shahdadkot) and heldout51.txt (Karachi's west, centre and north) for development, and
    # heldout52.txt (held out: Mandi Bahauddin, Hafizabad, Wazirabad, Kharian, Lalamusa),
    # their writers asked for posted men of one name and rank at two stations of one
    # district. Blind: false counted 26, 0 and 8; links made 92.0, 83.1 and 85.9 %.
    # heldout50.txt's 26: 23 short forms ("SHO Ghulam Mustafa" of Johi against "SHO Ghulam
    # Mustafa Chandio" of Thana Saddar, both Dadu), strong on a shared district and rank
    # where the full names were weak; and 3 a posted name in two towns of one district
    # (Moro, Kandiaro), one report naming no station. A short form is now never stronger
    # than its full name, and a town stands for its station (`links._stations_apart`):
    # development false counted 26 -> 0, right strong 3,102 -> 3,048 of 8,861, short forms'
    # right strong 233 -> 196 of 2,023. Held out, scored once after, in aggregate over
    # eighteen: false counted 18 -> 11 (heldout28.txt 2 -> 0, heldout52.txt 8 -> 3; heldout32.txt
    # 3 and heldout40.txt 5 unmoved), links made 90.5 %, right strong 1,364 -> 1,346 of 3,916.
    # Manghopir, Qubo Saeed Khan and "the van is KC-5519" (8bd6f71): heldout50.txt links made
    # 92.0 -> 93.9 %, heldout51.txt 83.1 -> 86.0 %.
    "heldout50.txt": (0.97, 0.98, 0.93, 0, 86, 0.51),
    "heldout51.txt": (0.98, 0.98, 0.88, 0, 80, 0.30),
    # heldout52.txt was held out to session 21. Its last false link (two Inspectors of one
    # name, counted in session 20 as sides of two stations and two registers) led to a rule
    # (a report naming two stations sets its man at the one written onto his post,
    # test_posted_station.py, below), so it was read and is a development set now: false
    # 1 -> 0; right strong 63 -> 58 of 223, four of them on a name one of its reports says
    # two men bear ("جن کا نام بھی انسپکٹر ... ہے"). heldout67.txt holds out in its place.
    "heldout52.txt": (0.98, 0.96, 0.86, 0, 102, 0.26),
    # Then two more for development, written blind the same way: heldout53.txt (Multan to
    # Vehari) and heldout54.txt (Mardan to Lower Dir). Blind on the rules above: false
    # counted 0 and 0; links made 93.3 and 85.2 %. ملاکنڈ, Talash, Sheikh Maltoon and Dir's
    # plates (856e52f): 93.5 and 86.8 %.
    # Then, from a probe (test_spread_names.py), not a corpus: a posted man's name that other
    # reports give posted men at two stations apart joins no report set at no station or
    # town strongly (`links.spread`). Development: false counted 0, right strong 3,309 ->
    # 3,246 of 9,287. Held out, in aggregate: false counted 11 (unmoved), right strong
    # 1,346 -> 1,312 of 3,920. Every right strong floor moved down with it.
    "heldout53.txt": (0.97, 0.97, 0.93, 0, 89, 0.5),
    "heldout54.txt": (0.97, 0.96, 0.87, 0, 103, 0.53),
    # Session 17: two more for development, written blind on the ground of heldout32.txt
    # (heldout55.txt, Karachi's west and centre, stations that sound alike) and of
    # heldout40.txt (heldout56.txt, Bannu to Tank), their writers asked for posted and
    # trading namesakes. Blind on ba560d5: false counted 0 and 9; links made 86.1 and
    # 93.4 %. heldout56.txt's 9: two agents Noor Muhammad at home in two towns of Lakki
    # Marwat (f6d6507: homes in towns apart; e12805e: a report placing its man in neither
    # town joins neither strongly). After the session's fixes: false 0 and 0; links made
    # 89.1 and 96.0 %. heldout50.txt's right strong share fell with e12805e (Allah Dino
    # Khoso, at home in Moro and in Kandiaro), heldout47.txt's weak false rose by two with
    # Naseeb listed (1a83079). Sindhi castes and given names probed in both scripts
    # (Sehto, Mugheri, Ameer ...): heldout51.txt's links made 86.5 -> 88.4 %, its right
    # links up by 9 and none of them strong; heldout54.txt's 87.1 -> 87.8 %, 5 weak false.
    "heldout55.txt": (0.97, 0.98, 0.89, 0, 66, 0.34),
    "heldout56.txt": (0.98, 0.97, 0.95, 0, 102, 0.65),
    # Then two more for development, written blind in session 17: heldout57.txt on the ground
    # of heldout52.txt (Mandi Bahauddin to Daska; posted, trading and same-report
    # namesakes, short forms) and heldout58.txt on heldout38.txt's (Larkana to Nawabshah;
    # written for links across the scripts). Blind (before 043d3d9): false counted 1 and 0,
    # links made 94.7 and 86.5 %. heldout57.txt's 1 is left: an inspector of Thana Saddar
    # Hafizabad whose report names the Pindi Bhattian road, against "Hafizabad police's
    # inspector" of the same name in a report of a Pindi Bhattian agent; a road named
    # after a town sets the report in the town. After 043d3d9 ("iqbal malakwal
    # thane", Khair, Bakrani, Jatoee, run-ons into verbs): 95.3 and 89.7 %.
    "heldout57.txt": (0.99, 0.99, 0.95, 0, 84, 0.25),
    "heldout58.txt": (0.96, 0.94, 0.89, 0, 88, 0.37),
    # Session 18, from probes on the ground of the corpora still counting false links, not
    # from a corpus (test_fathers_and_residence.py): a record's father ("s/o", "ولد", "ka
    # beta") tells namesakes apart (`parentage`); a record's residence ("resident of",
    # "r/o", "سکنہ") places a man (`homes`); a man's name before a town's station in Urdu
    # is his ("کانسٹیبل محمد اقبال تھانہ ڈومیل"); a quarter's word before "colony thane" is
    # the station's, and a station keyed by a quarter's words alone is weak. Development
    # unchanged to the link (false 1, links made 93.0 %, right strong 3,522 of 9,979).
    # Held out, in aggregate, taken after each step: the father, residence and Urdu station
    # rules; the quarters' stations; the tribes and clans (test_tribes_and_clans.py); the
    # towns, castes and names of Dadu, Jamshoro and Naushahro Feroze (the ground of
    # heldout34.txt, the one corpus whose links made were under 85 %, found from the
    # per-corpus figures this test prints; test_places_and_names_of_dadu_and_jamshoro.py):
    # false counted 11 at every step; links made 90.74 -> 90.82 -> 90.84 -> 90.84 -> 91.00 %
    # (heldout34.txt 83.0 -> 85.6 %: no held-out corpus under 85 % now); right strong 1,329
    # -> 1,339 -> 1,340 -> 1,340 -> 1,342. Ceilings and floors moved with it: heldout36.txt's
    # weak false 117 -> 125 and heldout38.txt's 139 -> 140 (names found that meet
    # namesakes); heldout32.txt's right strong share 0.44 -> 0.43, with the quarters' rule,
    # the one change here that makes a station link weak ("town/karachi"). Then more of a
    # source's ways of telling its man from a namesake ("a namesake of", "the same name as",
    # "no relation to", "a different ASI ...", "hamnaam", "ہم نام"), and a warning that
    # denies no rank keeping none (test_namesake_phrasings.py; a name shared with the
    # writer's kin is still no warning): development right strong 3,522 -> 3,521, held out
    # 1,342 -> 1,338, false unmoved; heldout14.txt's right strong share 0.24 -> 0.23.
    # Then towns and castes of Larkana to Nawabshah (heldout38.txt's ground, 85.3 %;
    # test_places_and_names_of_larkana_and_nawabshah.py): development links made 93.01 ->
    # 93.03 %, held out 91.00 -> 91.05 %, false unmoved; heldout24.txt's weak false 54 -> 55
    # and right strong share 0.59 -> 0.58 (Jan Muhammad Bhayo keyed whole now meets a
    # namesake, and one right link more is made, weak: 70 of 119). Bandhi listed bare cost
    # heldout28.txt's extraction floor one mention (بندھی is "tied" too): it is a town only
    # beside a cue now.
    # Session 19: heldout59.txt (Karachi's west, Bannu to Tank, Mandi Bahauddin to Kharian),
    # for development, written blind to the brief held-out knowledge suggested: different
    # posted men of one name at one station or town, told apart as an insider would. Blind
    # on 4decdb1: false counted 0, links made 87.9 %, right strong 69 of 217. Read: its
    # writer told most namesakes apart by surname, year, post or phone, which the rules
    # already read. Two SHOs of one station, Zulfiqar Ali Ranjha (2022) and Zulfiqar Ali
    # Tarar (2024), each written "Zulfiqar Ali" in another report, escaped a false link only
    # because one report's station was mis-keyed; a short form two men's full names share at
    # one station is now weak between two reports too (`links.crowded`): right strong 69 ->
    # 66 here (three links its writer decided by the story's year), development elsewhere
    # unchanged. From probes (test_grades.py, test_two_of_a_name.py): "Senior"/"Junior",
    # "چھوٹے"/"بڑے" written onto a name, and "there are two ASIs named ...": development
    # unchanged. Held out, in aggregate after those three: false 11, right strong 1,340
    # (unmoved). Then, from a probe on heldout52.txt's brief (test_several_stations.py): a
    # report naming two police stations at each of which other reports give the name a
    # posted man places its man at neither (`links.posted_at`): development right strong
    # 3,521 -> 3,485 of 9,990 (heldout59.txt apart), false unmoved; held out, in aggregate,
    # false counted 11 -> 9 (heldout52.txt 3 -> 1; its weak false 99 -> 101), right strong
    # 1,340 -> 1,328 of 3,951. The right strong floors of heldout10, 13, 16, 22, 29, 33, 35,
    # 39, 52 and 53 moved down with it.
    "heldout59.txt": (0.96, 0.95, 0.87, 0, 5, 0.27),
    # Then heldout60.txt, for development, written blind to a sharper brief: different
    # officials bearing identical full names at one station or town, under ranks one man
    # could hold (Bannu to Tank, Mandi Bahauddin to Gujrat). Blind on 4decdb1: false 4
    # (person), links made 86.5 %, right strong 94 of 300; on 83d25b4, false 4. Read: the
    # writer's own notes named both men ("two officers with the identical name", "دو ایس
    # ایچ او، ایک نام", "NOT the Inspector Mir Zaman Khan who was SHO in 2021", "الگ آدمی
    # ہے") and "another Gul Nawaz", "also named", "dusra", "bhi ... hai", "یہ وہ ... نہیں
    # جو" were no warnings. A report naming both men of a name, or saying there are two,
    # now marks it "one of two of this name" where it is set (`namesakes`,
    # `links.said_two`): false 4 -> 0, right strong 94 -> 65. Development: right strong
    # 3,485 -> 3,453 of 9,990 (heldout59.txt and heldout60.txt apart), false unmoved. Held
    # out, in aggregate: false 9 (unmoved), right strong 1,328 -> 1,298 of 3,951.
    "heldout60.txt": (0.95, 0.94, 0.92, 0, 32, 0.15),
    # Then, from a probe of Karachi's west (heldout32.txt's ground: forms of its stations in
    # the three registers, grouped by key): "thana site a" and "thana site superhighway"
    # were both keyed "site", the letter read as an article. SITE's letter and road are the
    # station's now, and "site" alone is a quarters' word (weak: three stations bear it).
    # Development right strong 3,453 -> 3,449, false unmoved; held out, in aggregate, a
    # fourth look: false counted 9 -> 6 (heldout32.txt 3 -> 0: all three of its station
    # links), right strong 1,298 -> 1,295.
    # Then the same probe on heldout40.txt's and heldout52.txt's grounds
    # (test_station_collisions.py): Mughal Kot and Kot Jai were both "kot", Ahmad Nagar and
    # Rasul Nagar both "nagar/nagar"; a station keyed by a quarters' word alone ("kot",
    # "colony", "abad") now sets its report in its district, at no station. Tribes lower-
    # case Roman Urdu left off names (Surani, Jalalzai, Utmanzai, Mirali, Jappa). Development
    # unchanged to the link; held out, in aggregate (a fifth look): false 6 (unmoved), right
    # strong 1,295 -> 1,283 (heldout32.txt's share 0.42 -> 0.39: Karachi's quarters).
    # Then Qadeer (قدیر) kept apart from Qadir (قادر) (test_names_seen_in_session_19.py):
    # heldout60.txt's agent Qadeer Wazir, unread in Urdu, is found: its links made 86.5 ->
    # 92.4 %, 61 more right links, none of them strong (its share 0.21 -> 0.18). No other
    # development set moved.
    # Then heldout61.txt, for development, written blind to heldout40.txt's brief (Bannu to
    # Tank, no example names, nothing of namesakes). Blind on 4decdb1 and on 60d13b7 alike:
    # false 0, links made 90.3 %, right strong 122 of 432. Ghazni Khel, Inayatullah and
    # Zahidullah listed: 91.5 %; heldout60.txt 92.4 -> 92.7 %.
    "heldout61.txt": (0.97, 0.97, 0.91, 0, 6, 0.26),
    # Session 20: Urdu names of one long vowel apart kept apart (test_names_of_two_forms.py:
    # راشد Rashid and رشید Rasheed, ناصر and نصیر, ماجد and مجید, حامد and حمید, حافظ and
    # حفیظ, عادل and عدیل). heldout16.txt's Haroon Rashid, ہارون رشید, is the one man the
    # development sets write with both: its links made 89.0 -> 88.8 % (its floor 0.89 ->
    # 0.88). No other development set moved. Held out, in aggregate (session 20's first
    # look): unmoved to the link (false 6, right strong 1,283).
    # Then names keyed as another's (test_names_keyed_as_another.py: Faizullah, Fazlullah and
    # Fazil; Anwarullah and Noorullah; Naseerullah and Nasrullah; Zahir and Zaheer; ...):
    # heldout27.txt's munshi Zahir Shah is one key in the three registers (links made 93.9 ->
    # 94.5 %), heldout54.txt 87.8 -> 88.0 %. Held out (a second look): unmoved to the link.
    # Then a short form meets a full name only as the full name meets itself (said_two,
    # posted_at): development and held out (a third look) unmoved.
    # Then a count of the held-out false links' sides (a fourth and fifth look: whether each
    # side's mention matched a label, their ranks and registers; no names, no text): all six
    # matched two different labelled men, and five were one name eleven reports gave an SI
    # and an Inspector (or the SHO) of one station. SI and Inspector are two men now, and
    # where reports give a name both, an SHO of it may be either (test_ranks_apart.py,
    # links.ranked_apart). Development: right strong 3,701 -> 3,700 (heldout60.txt), no
    # link lost; held out (a seventh look; the sixth was SI/Inspector alone, 6 -> 3): false
    # 6 -> 1, right strong 1,283 -> 1,278; heldout40.txt's false ceiling 5 -> 0, its weak
    # false 140 -> 145, its right strong share 0.43 -> 0.41.
    # Then a town named as a road's ("on the Pindi Bhattian road, district Hafizabad") sets
    # its report in the town's district only (test_roads.py, links.setting): heldout57.txt's
    # last false link gone (its ceiling 1 -> 0); development false 1 -> 0, right strong
    # unmoved in sum, no link lost. Held out (a ninth look): false 1, right strong 1,278 ->
    # 1,279. (Dropping such a town from the report's places altogether cost 5 development
    # and 11 held-out links made, the eighth look; not kept.)
    # heldout62.txt, for development, written blind in session 20 (Jhang, Chiniot, Toba Tek
    # Singh, Faisalabad's rural tehsils) to a brief of police officers by rank: a promoted SI
    # (no word of it in some reports), an SHO under four names, two men of one name and two
    # ranks in one district, two ASIs of one name at one station two years apart. Blind on
    # d96e43f (the session's start) and on 6dfc283 alike: false 0, links made 93.3 %; right
    # strong 235 and 234 of 516 (the SI/Inspector rule's cost: the promoted man). Read:
    # Jhang's and Chiniot's tribes (Bharwana and five more) listed.
    "heldout62.txt": (0.96, 0.96, 0.93, 0, 14, 0.42),
    # heldout63.txt, held out before it was written (session 20), in heldout40.txt's place:
    # Bannu to Tank, no example names, near misses and both digit sets asked for. Scored
    # blind on d96e43f and on e44e29e alike, in aggregate only: F1 0.970, person F1 0.955,
    # links made 94.4 %, false 0, weak false 78, right strong 67 of 361.
    "heldout63.txt": (0.97, 0.95, 0.94, 0, 78, 0.17),
    # heldout64.txt, for development, written blind in session 20 to heldout52.txt's brief
    # as HELDOUT.md gives it (Mandi Bahauddin to Sarai Alamgir; posted men of one name and
    # rank at two stations of one district, four such pairs). Blind on d96e43f and on
    # 6de8980 alike: false 0, links made 90.0 %, F1 0.961, right strong 132 of 742. Read:
    # Kuthiala Sheikhan, Qadirabad and Kassoki were no towns (95.8 % after); once they were,
    # heldout60.txt's two SHOs of Kuthiala Sheikhan of one name linked strongly (1 false),
    # though one report said "pehle wala sho bhi isi naam ka tha", now read
    # (test_seen_in_session_20.py): 0 again, heldout60.txt's links made 92.7 -> 93.2 %.
    "heldout64.txt": (0.98, 0.99, 0.95, 0, 106, 0.20),
    # heldout65.txt, for development, written blind in session 20 (Sukkur, Khairpur, Ghotki,
    # Shikarpur, Kashmore) to the plan with no special ask but namesakes of one district,
    # promotions and vague ranks. Blind on d96e43f and on f3e0b60: false 0, links made
    # 95.2 %, F1 0.987; right strong 95 and 94 of 243 (the promoted SI again). Read: Jatoi,
    # a town and a tribe, keyed "Ghulam Mustafa Jatoi"'s stations as Muzaffargarh's; "sain"
    # after a name was in its key; Yar of Yar Muhammad, Sundrani and Phulpoto unread
    # (test_seen_in_session_20.py): 97.3 % after. heldout23.txt and heldout24.txt gained 6
    # links each. With those rules, held out (the twelfth look): false 1, links made
    # 90.95 -> 91.00 %, right strong 1,254 -> 1,258 of 4,084; weak false links (shown, not
    # counted) 72 -> 73 on heldout22.txt and 140 -> 141 on heldout38.txt, whose ceilings
    # follow, as heldout24.txt's right strong share does (six links more, none strong).
    "heldout65.txt": (0.99, 0.99, 0.97, 0, 108, 0.36),
    # heldout67.txt, held out before it was written (session 21), to heldout52.txt's brief
    # (Mandi Bahauddin to Sarai Alamgir, no example names; posted men of one name and rank at
    # two stations of one district); its writer reported back only the checker's counts.
    # Scored blind on b0e75ff (the session's start), in aggregate only: F1 0.988, person F1
    # 0.975, links made 98.5 %, false 0, weak false 108, right strong 177 of 336.
    "heldout67.txt": (0.98, 0.97, 0.98, 0, 108, 0.51),
    # heldout66.txt, for development, written blind in session 21 (Sargodha, Khushab,
    # Mianwali, Bhakkar; 16 reports in each register) to a brief of reports naming two
    # stations, posted namesakes at two stations of one district and transfers. Blind on
    # b0e75ff: false 19, links made 96.3 %, F1 0.988, right strong 186 of 278. Its false
    # links, and heldout52.txt's last, were one class: a report naming two stations set its
    # posted man at both. Now a report sets him at the station it writes onto his post
    # ("Inspector Ghulam Abbas, the SHO of Thana Bhalwal", "thana kot momin ke sho ...",
    # "saddar thana wale inspector ...", "Thana Saddar Okara ka SHO ...", "went to Thana
    # Quaidabad, where ASI ..."; links.own_places), and such posts count where reports give
    # a name posted men (links.posted_at, links.spread); "same naam ka ek SI piplan mein bhi
    # hai" keeps no rank (the other man is an SI too), and "jis ka naam bhi inspector ...
    # hai" says two men bear it (test_posted_station.py). heldout66.txt false 19 -> 0, right
    # strong 186 -> 181; heldout52.txt false 1 -> 0 (above); development elsewhere false 0,
    # right strong 4,289 -> 4,288 of 12,830 (heldout33.txt +4, heldout35.txt +1;
    # heldout27.txt -3, heldout39.txt, heldout50.txt and heldout51.txt -1 each: reports
    # whose other station was mis-keyed, or whose man's "came from" was his station, had
    # joined by a shared station).
    "heldout66.txt": (0.98, 0.98, 0.96, 0, 64, 0.65),
    # heldout68.txt (Lahore, Sheikhupura, Kasur, Nankana Sahib: station names cities share,
    # lists of stations, namesakes, transfers) and heldout69.txt (Karachi, Hyderabad, Thatta,
    # Badin, Jamshoro: several stations a district, posted namesakes, short forms), for
    # development, written blind in session 21. Blind on b0e75ff and on the rules above
    # alike: heldout68.txt false 4, links made 98.6 %; heldout69.txt false 0, links made
    # 83.9 %. Read: heldout68.txt's four were an FIA Sub-Inspector at the airport and a
    # Thana Township SI of one name, both in Lahore. The agency written onto a rank is now
    # the man's service, and men of two services, or an FIA man and one whose report writes
    # a police station onto his post, do not join (test_services.py): false 4 -> 0, right
    # strong unmoved; development elsewhere right strong -1 (heldout60.txt). heldout69.txt
    # wrote launches' numbers after "boat" and "لانچ" (83.9 -> 85.4 %); its districts
    # "South", "West" and the quarter "Saddar" are a labelling the rules do not share.
    "heldout68.txt": (0.99, 0.99, 0.98, 0, 71, 0.45),
    "heldout69.txt": (0.95, 0.97, 0.85, 0, 67, 0.27),
    # heldout70.txt (Peshawar, Mardan, Charsadda, Nowshera, Kohat, Swabi: namesakes in
    # different services, fathers' names, reports naming several stations), for
    # development, written blind after those rules. Blind on b0e75ff: false 2, links made
    # 82.7 %; on the rules above: false 1. Left: a CTD Inspector Sher Ali Bangash of Kohat,
    # "Inspector Sher Ali" later in his report, against "mardan mein inspector sher ali tha
    # jo ab nowshera chala gaya hai" (another man) in a report naming Kohat's Thana Saddar
    # too. Reading "<district> mein <rank> <name>" as the man's home fixed it and cost 20
    # right strong links elsewhere (homes spread to their names' other reports); not kept.
    # Its recall is low on Pashto nicknames (Zarshad, "Bakhtu") and lower-case "noor wali".
    "heldout70.txt": (0.96, 0.95, 0.82, 1, 83, 0.34),
    # heldout71.txt (Multan, Muzaffargarh, Dera Ghazi Khan, Rajanpur, Rahim Yar Khan,
    # Bahawalpur: landlords and officials of one name, titles and kinship, reports naming
    # several stations, six transfers), for development, written blind last. Blind on
    # b0e75ff and on the rules above alike: false 0, links made 91.9 %, F1 0.982, right
    # strong 63 of 221.
    "heldout71.txt": (0.98, 0.97, 0.91, 0, 54, 0.28),
}


def _corpus(name: str) -> Path:
    """The corpus file; RAAZDAR_HELDOUT names a fresh blind one to score in its place."""
    return Path(os.environ.get("RAAZDAR_HELDOUT") or CORPORA / name)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_corpus_figures(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = _corpus(name)
    assert path.is_file(), f"the held-out corpus is missing: {path}"
    reports = heldout.load(path)
    assert len(reports) >= 40
    figures = heldout.score(reports, extract)
    with capsys.disabled():
        print(f"\nentity extraction on {path.name}\n{figures.table()}")
    f1, person_f1, links, most_false, most_weak, right_strong = FLOORS[name]
    assert figures.f1() >= f1
    assert figures.f1("person") >= person_f1
    assert figures.link_share() >= links
    assert sum(figures.false_links.values()) <= most_false
    assert sum(figures.weak_false_links.values()) <= most_weak
    assert figures.right_strong_links >= right_strong * figures.right_links


_MINI = """=== A en
SHO Rana Tariq of Thana Saddar, Kasur, took money on 2 March 2024.
---
person: Rana Tariq => P1
police_station: Thana Saddar => S1
district: Kasur => D1
date: 2 March 2024 => DT-1

=== B ur
ایس ایچ او رانا طارق قصور میں ہے اور منشی اسلم بھی۔
---
person: رانا طارق => P1
district: قصور => D1
person: اسلم => P9
person: Nobody Here => P8
organisation: Punjab => O1

=== C en
Aslam came. Aslam left.
---
person: Aslam => P2
person: Aslam => P2
"""


def test_the_scorer_counts_mentions_links_and_false_links(tmp_path: Path) -> None:
    path = tmp_path / "mini.txt"
    path.write_text(_MINI, "utf-8")
    reports = heldout.load(path)
    assert [len(r.gold) for r in reports] == [4, 3, 2]
    assert [r.unplaced for r in reports] == [0, 1, 0]
    assert [r.other for r in reports] == [0, 1, 0]
    c_text = reports[2].text
    assert [(g.start, g.end) for g in reports[2].gold] == [(0, 5), (12, 17)]  # first free ones

    def fake(text: str) -> list[Entity]:
        if text.startswith("SHO"):
            return [
                Entity("person", "Rana Tariq", "rana tariq", 4, 14),
                Entity("police_station", "Thana Saddar", "saddar/kasur", 18, 30),
                Entity("district", "Kasur", "kasur", 32, 37),
                Entity("vehicle", "March", "X", 48, 53),  # a false positive
            ]
        if text == c_text:
            return [Entity("person", "Aslam", "aslam", 0, 5)]  # one of two found
        start = text.index("اسلم")
        return [
            Entity("person", "رانا طارق", "rana tariq", 11, 20),
            Entity("person", "اسلم", "aslam", start, start + 4),
        ]

    figures = heldout.score(reports, fake)
    assert (figures.tp["person"], figures.fp["person"], figures.fn["person"]) == (4, 0, 1)
    assert (figures.tp["vehicle"], figures.fp["vehicle"], figures.fn["date"]) == (0, 1, 1)
    assert figures.fn["district"] == 1  # قصور in B was not found
    # A-B share P1 and D1; made: P1 only (B's district was not found).
    assert (figures.expected_links, figures.made_links) == (2, 1)
    # "aslam" joins B's P9 and C's P2: different people under one key. The two reports
    # share no place, so the review tool shows that link as weak: not counted.
    assert figures.false_links == {}
    assert figures.weak_false_links == {"person": 1}
    assert 0 < figures.f1() < 1
    assert "aslam" not in figures.table().lower()  # aggregates only


def test_a_shorter_mention_is_placed_after_the_longer_one_it_repeats(tmp_path: Path) -> None:
    # Gold lists "Haji Bashir Ahmed" then "Haji Bashir": the second is the later mention,
    # not the first two words of the first (which made a right answer count as a miss).
    path = tmp_path / "short.txt"
    path.write_text(
        "=== A en\nHaji Bashir Ahmed sent them. Haji Bashir lied.\n---\n"
        "person: Haji Bashir Ahmed => P1\nperson: Haji Bashir => P1\n",
        "utf-8",
    )
    (report,) = heldout.load(path)
    assert [(g.start, g.end) for g in report.gold] == [(0, 17), (29, 40)]


_SHORT = """=== A en
SHO Mumtaz Ali Chandio of Thana Saddar Kasur took money.
---
person: Mumtaz Ali Chandio => P1
police_station: Thana Saddar Kasur => S1

=== B en
SHO Chandio of Thana Saddar Kasur beat him. FIA came.
---
person: Chandio => P1
police_station: Thana Saddar Kasur => S1
agency: FIA => A1

=== C en
Chandio the agent near Thana Saddar Kasur. FIA Circle Gujrat took his passport.
---
person: Chandio => P2
police_station: Thana Saddar Kasur => S1
agency: FIA Circle Gujrat => A1
"""


def test_the_scorer_counts_short_form_links_and_says_why_links_are_missed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "short.txt"
    path.write_text(_SHORT, "utf-8")
    a, b, c = heldout.load(path)
    station = "saddar/kasur"

    def fake(text: str) -> list[Entity]:
        name = text.index("Chandio")
        start = text.index("Mumtaz") if text == a.text else name
        written = text[start : name + 7]
        rank = "SHO" if text.startswith("SHO") else None
        out = [Entity("person", written, written.lower(), start, name + 7, rank)]
        if "Thana" in text:
            at = text.index("Thana")
            out.append(Entity("police_station", "Thana Saddar Kasur", station, at, at + 18))
        if text == b.text:
            out.append(Entity("agency", "FIA", "fia", text.index("FIA"), text.index("FIA") + 3))
        # C's agency is not found
        return out

    figures = heldout.score([a, b, c], fake)
    # A-B: P1 (by the short form "chandio" of "mumtaz ali chandio") and S1 (one key);
    # A-C and B-C: S1; B-C: A1 expected, C's mention not found.
    assert (figures.expected_links, figures.made_links) == (5, 4)
    assert (figures.right_short_links, figures.right_strong_short_links) == (1, 1)
    # C's "Chandio" (another man, at that station, with no rank) against A's full name:
    # a weak link, and false.
    assert figures.weak_false_short_links == 1
    assert figures.false_links == {}
    assert figures.missed == {("agency", heldout.NOT_FOUND): 1}
    assert "agency 1 not found, 0 keyed apart" in figures.table()
    assert "chandio" not in figures.table().lower()


def test_every_held_out_floor_is_issue_18s_target_or_above() -> None:
    """The held-out corpora (HELDOUT.md) are held to F1 0.90, person F1 0.85, 85 % of
    links made and no false link counted as corroboration, each on its own."""
    held_out = (4, 5, 7, 10, 14, 18, 22, 28, 30, 32, 34, 36, 38, 42, 46, 49, 63, 67)
    for number in held_out:
        f1, person_f1, links, most_false, _weak, _strong = FLOORS[f"heldout{number}.txt"]
        assert f1 >= 0.90, number
        assert person_f1 >= 0.85, number
        assert links >= 0.85, number
        assert most_false == 0, number
