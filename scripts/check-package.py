#!/usr/bin/env python3
"""Checks that Package.swift declares every module a target imports.

MemberImportVisibility makes each file import the modules whose members it uses; this keeps
the other half true: a target's imports are its declared dependencies (local targets and
package products), so the graph in Package.swift is the real one. Exits 1 naming each gap.
"""
import glob
import re
import sys

# Modules that come with the toolchain or the OS, and C modules that packages do not export
# as products (SQLite's amalgamation inside sqlite-nio).
NOT_PRODUCTS = {
    "Foundation", "FoundationEssentials", "CoreFoundation", "Dispatch", "Glibc", "Musl", "Darwin",
    "Synchronization", "Testing", "XCTest", "_Concurrency", "VaporCSQLite",
}

package = open("Package.swift").read()
problems = []
for match in re.finditer(r'\.(target|executableTarget|testTarget)\(\s*name: "([^"]+)",(.*?)swiftSettings', package, re.S):
    kind, name, body = match.groups()
    dependencies = re.search(r'dependencies: \[(.*?)\]', body, re.S)
    listed = dependencies.group(1) if dependencies else ""
    # Local targets are bare strings; products are .product(name:package:).
    declared = set(re.findall(r'(?<!package: )"(\w+)"', listed))
    path = re.search(r'path: "([^"]+)"', body)
    directory = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
    for file in sorted(glob.glob(directory + "/**/*.swift", recursive=True)):
        in_string = False
        for line in open(file):
            if line.count('"""') % 2 == 1:
                in_string = not in_string
            if in_string:
                continue
            imported = re.match(r'^(?:@testable |@_spi\(\w+\) |@preconcurrency |public |internal |package )*import (?:struct |class |enum |func |protocol )?(\w+)', line)
            if imported:
                module = imported.group(1)
                if module not in declared and module not in NOT_PRODUCTS and module != name:
                    problems.append(f"{file}: imports {module}, which target {name} does not declare in Package.swift")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
