#!/bin/sh
echo "note for $1" > "$1"
echo made
