# Unpacks one collection (NAMESPACE/NAME) from the `ansible` package's wheel into this
# Python's site-packages as ansible_collections/NAMESPACE/NAME, where ansible-core finds it.
# Usage: python take_collection.py WHEEL NAMESPACE/NAME (the venv's python).
import os
import sys
import sysconfig
import zipfile

wheel, collection = sys.argv[1], sys.argv[2]
prefix = "ansible_collections/%s/" % collection.strip("/")
target = sysconfig.get_paths()["purelib"]
with zipfile.ZipFile(wheel) as archive:
    names = [n for n in archive.namelist() if n.startswith(prefix)]
    if not names:
        sys.exit("take_collection: %s holds no %s" % (wheel, prefix))
    for name in names:
        # Only paths inside the collection's folder: no absolute or climbing names.
        if os.path.isabs(name) or ".." in name.split("/"):
            sys.exit("take_collection: refusing %s" % name)
        archive.extract(name, target)
print("take_collection: %d files of %s into %s" % (len(names), collection, target))
