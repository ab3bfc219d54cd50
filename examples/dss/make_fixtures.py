"""Write the production-shaped DSS flows of this folder (run: python examples/dss/make_fixtures.py).

``daily_dw.json``: 121 nodes as DSS saves them: every script node names its script in
``jobContent.script`` and ``resources`` (BML ids; the code lives in ``scripts/``), AppConn
nodes of several kinds (datachecker, eventchecker sender/receiver, qualitis, sendemail), older
``linkis.appjoint.*`` nodes, subflows whose child flows are not in the document, empty
join nodes and one disabled node. ``resources.json`` lists what to upload to BML.
"""

import json
import random
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(20250301)


def uid() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


SCRIPT_KINDS = [
    ("linkis.shell.sh", "sh", "#@set stage=ods\necho \"${stage} {title} ${run_date}\"\n"),
    ("linkis.python.python", "python", "#@set batch=7\nprint('{title}', '${batch}', '${run_date}')\n"),
    (
        "linkis.spark.sql",
        "sql",
        "--@set target_db=dw_sales\n--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws\n"
        "insert overwrite table ${target_db}.{title} select * from ods.{title} where dt='${run_date}'\n",
    ),
    ("linkis.spark.py", "py", "df = spark.sql(\"select count(1) from ods.{title}\")\ndf.show()\n"),
    ("linkis.hive.hql", "hql", "--@set n=3\nselect ${n} as {title}\n"),
]
APPCONN = [
    ("linkis.appconn.datachecker", {"check.object": "ods.orders{{i}}", "max.check.hours": "1", "job.desc": "wait"}),
    ("linkis.appconn.eventchecker.sender", {"msg.type": "SEND", "msg.sender": "dw_{{i}}", "msg.topic": "daily_ready"}),
    ("linkis.appconn.eventchecker.receiver", {"msg.type": "RECEIVE", "msg.receiver": "bi_{{i}}", "msg.topic": "daily_ready"}),
    ("linkis.appconn.qualitis", {"ruleGroupId": "{{i}}", "rules": ["not_null", "unique"]}),
    ("linkis.appjoint.qualitis", {"ruleGroupId": "old{{i}}"}),
    ("linkis.appjoint.sendemail", {"to": "dw-team@example.com", "subject": "daily load {{i}}"}),
]


def params(special=None, startup=None):
    return {"variable": {}, "configuration": {"startup": startup or {}, "runtime": {}, "special": special or {}}}


def node(title, job_type, content, resources=(), special=None, startup=None):
    key = uid()
    raw = {
        "id": key, "key": key, "title": title, "jobType": job_type, "jobContent": content,
        "resources": list(resources), "params": params(special, startup), "desc": "",
        "layout": {"x": rng.randint(0, 2000), "y": rng.randint(0, 2000), "width": 150, "height": 40},
        "createTime": 1740800000000, "modifyTime": 1740800000000, "modifyUser": "alice",
        "appTag": None, "businessTag": None, "ecConfTemplateId": None, "ecConfTemplateName": None,
    }  # fmt: skip
    return raw


def build(layers: int = 11, width: int = 11):
    nodes, edges, uploads = [], [], []
    previous = []
    count = 0
    for layer in range(layers):
        current = []
        for i in range(width):
            count += 1
            pick = (layer * width + i) % 14
            if pick < 8:
                job_type, ext, template = SCRIPT_KINDS[pick % len(SCRIPT_KINDS)]
                title = f"{ext}_{layer:02d}_{i:02d}"
                file_name = f"{title}.{ext}"
                resource = {"fileName": file_name, "resourceId": uid(), "version": f"v{rng.randint(1, 12):06d}"}
                (HERE / "scripts" / file_name).write_text(template.replace("{title}", title), encoding="utf-8")
                uploads.append({"file": f"scripts/{file_name}", **resource})
                special = {"auto.disabled": "true"} if (layer, i) == (5, 3) else None
                startup = {"spark.executor.memory": "4g"} if job_type.startswith("linkis.spark") else None
                raw = node(title, job_type, {"script": file_name}, [resource], special, startup)
            elif pick < 12:
                job_type, content = APPCONN[(layer + i) % len(APPCONN)]
                title = f"{job_type.split('.', 2)[2].replace('.', '_')}_{layer:02d}_{i:02d}"
                content = json.loads(json.dumps(content).replace("{{i}}", str(count)))
                raw = node(title, job_type, content)
            elif pick == 12:
                raw = node(f"subflow_{layer:02d}_{i:02d}", "workflow.subflow", {"embeddedFlowId": str(9000 + count)})
            else:
                raw = node(f"join_{layer:02d}_{i:02d}", "linkis.control.empty", {})
            nodes.append(raw)
            current.append(raw["id"])
            for parent in rng.sample(previous, min(len(previous), rng.randint(1, 3))) if previous else []:
                edges.append({"source": parent, "target": raw["id"], "sourceLocation": "bottom", "targetLocation": "top"})
        previous = current
    context = {"user": "alice", "workspace": "bdapWorkspace", "project": "sales_dw", "flow": "daily_dw",
               "contextId": "8-8--cs_1_devcs_1_dev10", "version": "v000042", "env": "BDAP_DEV"}  # fmt: skip
    flow = {
        "nodes": nodes, "edges": edges,
        "props": [{"user.to.proxy": "alice"}, {"target_db": "dw_sales"}],
        "resources": [], "scheduleParams": {"proxyuser": "alice"},
        "contextID": json.dumps({"type": "HAWorkFlowContextID", "value": json.dumps(context)}),
        "type": "flow", "updateTime": 1740800000000, "updateUser": "alice", "comment": "daily DW load",
    }  # fmt: skip
    return flow, uploads


if __name__ == "__main__":
    (HERE / "scripts").mkdir(exist_ok=True)
    for old in (HERE / "scripts").iterdir():
        old.unlink()
    flow, uploads = build()
    (HERE / "daily_dw.json").write_text(json.dumps(flow, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (HERE / "resources.json").write_text(json.dumps(uploads, indent=1) + "\n", encoding="utf-8")
    print(f"{len(flow['nodes'])} nodes, {len(uploads)} scripts")
