#!/usr/bin/env node
// Committed so npm can link the command at install time; the program itself is built into dist/.
import '../dist/main.js'
