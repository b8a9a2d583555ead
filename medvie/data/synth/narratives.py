"""Imaging and pathology reports: findings, diagnosis and advice as parallel English/Chinese text.

A finding has slots ({a}, {b}) filled with measurements; `short` variants fit tiny pages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    desc: tuple[str, str]
    diag: tuple[str, str]
    advice: tuple[str, str] = ("", "")
    short: tuple[str, str] = ("", "")  # short description for tiny pages


@dataclass(frozen=True)
class Study:
    name: tuple[str, str]
    site: tuple[str, str]
    findings: tuple[Finding, ...]
    short_name: tuple[str, str] = ("", "")
    short_site: tuple[str, str] = ("", "")


IMAGING = (
    Study(
        ("Abdominal Ultrasound", "腹部超声"),
        ("Liver, gallbladder, pancreas, spleen", "肝、胆、胰、脾"),
        (
            Finding(
                (
                    "The liver is normal in size with smooth capsule and homogeneous echotexture. "
                    "The gallbladder wall is smooth. Pancreas and spleen show no abnormality.",
                    "肝脏大小正常，包膜光滑，实质回声均匀。胆囊壁光滑。胰腺、脾脏未见明显异常。",
                ),
                ("No obvious abnormality", "肝胆胰脾未见明显异常"),
                ("", ""),
                ("Liver normal in size.", "肝脏大小正常。"),
            ),
            Finding(
                (
                    "The liver is enlarged with diffusely increased echogenicity and posterior attenuation. "
                    "The right lobe measures {a} cm.",
                    "肝脏体积增大，实质回声弥漫性增强，后方回声衰减。右叶斜径{a}cm。",
                ),
                ("Fatty liver", "脂肪肝"),
                ("Low-fat diet and regular exercise.", "低脂饮食，适当运动。"),
                ("Diffusely bright liver.", "肝实质回声增强。"),
            ),
            Finding(
                (
                    "A strong echo of {b} cm with acoustic shadow is seen in the gallbladder, "
                    "moving with posture.",
                    "胆囊内可见一强回声，大小约{b}cm，后伴声影，随体位移动。",
                ),
                ("Gallbladder stone", "胆囊结石"),
                ("Surgical consultation.", "建议外科就诊。"),
                ("Gallbladder echo {b} cm.", "胆囊强回声{b}cm。"),
            ),
            Finding(
                (
                    "An anechoic area of {b} x {c} cm is seen in the right lobe of the liver "
                    "with clear margins.",
                    "肝右叶见一无回声区，大小约{b}x{c}cm，边界清。",
                ),
                ("Hepatic cyst", "肝囊肿"),
                ("Follow-up in 12 months.", "建议12个月后复查。"),
                ("Liver cyst {b} cm.", "肝囊肿{b}cm。"),
            ),
        ),
        ("Abd US", "腹部B超"),
        ("Abdomen", "肝胆胰脾"),
    ),
    Study(
        ("Thyroid Ultrasound", "甲状腺超声"),
        ("Thyroid", "甲状腺"),
        (
            Finding(
                (
                    "The thyroid is normal in size with homogeneous echotexture. No focal lesion is seen.",
                    "甲状腺大小正常，实质回声均匀，未见明显占位。",
                ),
                ("Normal thyroid", "甲状腺未见明显异常"),
                ("", ""),
                ("Thyroid normal.", "甲状腺回声均匀。"),
            ),
            Finding(
                (
                    "A hypoechoic nodule of {d} x {e} mm is seen in the {side} lobe, wider than tall, with "
                    "regular margins.",
                    "甲状腺{side}叶见一低回声结节，大小约{d}x{e}mm，边界清，形态规则。",
                ),
                ("Thyroid nodule, TI-RADS 3", "甲状腺结节，TI-RADS 3类"),
                ("Follow-up in 6 months.", "建议6个月后复查。"),
                ("Nodule {d} mm.", "结节{d}mm。"),
            ),
        ),
        ("Thyroid US", "甲状腺B超"),
    ),
    Study(
        ("Chest CT", "胸部CT平扫"),
        ("Chest", "胸部"),
        (
            Finding(
                (
                    "Both lungs are clear. The mediastinum is central. No pleural effusion.",
                    "双肺纹理清晰，未见实变影。纵隔居中，未见胸腔积液。",
                ),
                ("No active lung disease", "胸部CT未见明显异常"),
                ("", ""),
                ("Lungs clear.", "双肺清晰。"),
            ),
            Finding(
                (
                    "A solid nodule of {d} mm is seen in the {lobe} with smooth margins. "
                    "No enlarged lymph nodes.",
                    "{lobe}见一实性结节，直径约{d}mm，边缘光滑。纵隔未见肿大淋巴结。",
                ),
                ("Pulmonary nodule", "肺结节"),
                ("Follow-up CT in 12 months.", "建议12个月后复查CT。"),
                ("Nodule {d} mm.", "肺结节{d}mm。"),
            ),
            Finding(
                (
                    "Patchy opacities are seen in the {lobe}. Bronchial walls are thickened.",
                    "{lobe}见斑片状密度增高影，支气管壁增厚。",
                ),
                ("Pneumonia", "肺炎"),
                ("Anti-infective treatment and review.", "抗感染治疗后复查。"),
                ("Patchy opacity.", "斑片影。"),
            ),
        ),
        ("CT", "胸部CT"),
    ),
)

PATHOLOGY = (
    Study(
        ("Gastric Biopsy", "胃镜活检"),
        ("Gastric antrum", "胃窦"),
        (
            Finding(
                (
                    "Gastric mucosa with mild chronic inflammatory cell infiltration. No atypia.",
                    "胃黏膜组织，固有层见少量慢性炎细胞浸润，未见异型。",
                ),
                ("Chronic superficial gastritis", "慢性浅表性胃炎"),
                ("", ""),
                ("Mild inflammation.", "少量炎细胞。"),
            ),
            Finding(
                (
                    "Gastric mucosa with intestinal metaplasia and moderate chronic inflammation. "
                    "H. pylori positive.",
                    "胃黏膜慢性炎伴肠上皮化生，幽门螺杆菌阳性。",
                ),
                ("Chronic atrophic gastritis with intestinal metaplasia", "慢性萎缩性胃炎伴肠化"),
                ("H. pylori eradication therapy.", "建议根除幽门螺杆菌治疗。"),
                ("Intestinal metaplasia.", "肠上皮化生。"),
            ),
        ),
        ("Biopsy", "活检"),
    ),
    Study(
        ("Colon Polyp Excision", "结肠息肉切除"),
        ("Sigmoid colon", "乙状结肠"),
        (
            Finding(
                (
                    "Polypoid tissue of {b} cm with tubular glands and low-grade dysplasia. Margins clear.",
                    "息肉样组织一枚，大小{b}cm，腺体呈管状排列，伴低级别上皮内瘤变，切缘阴性。",
                ),
                ("Tubular adenoma with low-grade dysplasia", "管状腺瘤伴低级别上皮内瘤变"),
                ("Colonoscopy in 3 years.", "建议3年后复查肠镜。"),
                ("Tubular glands.", "管状腺体。"),
            ),
            Finding(
                (
                    "Colonic mucosa with hyperplastic glands and serrated lumens. No dysplasia.",
                    "结肠黏膜腺体增生，腺腔呈锯齿状，未见异型增生。",
                ),
                ("Hyperplastic polyp", "增生性息肉"),
                ("", ""),
                ("Hyperplastic glands.", "腺体增生。"),
            ),
        ),
        ("Polyp", "息肉"),
    ),
    Study(
        ("Skin Excision", "皮肤肿物切除"),
        ("Skin of back", "背部皮肤"),
        (
            Finding(
                (
                    "A cyst lined by stratified squamous epithelium and filled with keratin. Size {b} cm.",
                    "囊壁被覆复层鳞状上皮，囊内充满角化物，大小{b}cm。",
                ),
                ("Epidermoid cyst", "表皮样囊肿"),
                ("", ""),
                ("Keratin cyst.", "角化囊肿。"),
            ),
            Finding(
                (
                    "Nests of benign melanocytes in the dermis. No mitoses.",
                    "真皮内见良性痣细胞巢，未见核分裂。",
                ),
                ("Intradermal nevus", "皮内痣"),
                ("", ""),
                ("Benign nevus cells.", "良性痣细胞。"),
            ),
        ),
        ("Skin", "皮肤"),
    ),
)

SIDES = (("right", "右"), ("left", "左"))
LOBES = (("right upper lobe", "右肺上叶"), ("left lower lobe", "左肺下叶"), ("right middle lobe", "右肺中叶"))


def narrative(rng: random.Random, doc_type: str, language: str, short: bool) -> dict[str, str]:
    """Exam name, site, description, diagnosis, advice for an imaging/pathology report."""
    zh = language == "zh"
    study = rng.choice(IMAGING if doc_type == "imaging" else PATHOLOGY)
    f = rng.choice(study.findings)
    slots = {
        "a": f"{rng.uniform(14.5, 17.5):.1f}",
        "b": f"{rng.uniform(0.4, 2.5):.1f}",
        "c": f"{rng.uniform(0.3, 1.8):.1f}",
        "d": str(rng.randint(4, 18)),
        "e": str(rng.randint(3, 12)),
        "side": rng.choice(SIDES)[zh],
        "lobe": rng.choice(LOBES)[zh],
    }
    out = {
        "Examination Name": (study.short_name if short else study.name)[zh],
        "Examination Site": (study.short_site if short and study.short_site[0] else study.site)[zh],
        "Examination Description": ((f.short if short else f.desc)[zh]).format(**slots),
        "Diagnosis": f.diag[zh],
    }
    if f.advice[zh]:
        out["Treatment Recommendations"] = f.advice[zh]
    return out
