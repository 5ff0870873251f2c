"""The supported SOQL subset as a lark LALR grammar.

Kept as a Python constant (not a ``.lark`` data file) so the package needs no
package-data entry. Keywords are case-insensitive whole words that outrank identifiers, and the
contextual lexer only tries the terminals the parser accepts at each point, so
a word is a keyword only where a keyword can stand: ``Type`` or ``Last`` stay
usable as names and ``INCLUDES`` never splits into ``IN`` + ``CLUDES``.
AND and OR never mix without parentheses and NOT applies to a whole
parenthesized unit, as Salesforce requires: ``a AND b OR c`` fails at ``OR``.
Anything outside the subset (GROUP BY, functions, child subqueries, ...)
fails to parse and is reported by ``parser.py`` as not supported.
"""

GRAMMAR = r"""
start: query

query: SELECT select_list FROM object_ref where_clause? order_clause? limit_clause? offset_clause?

select_list: COUNT "(" ")"                  -> count_all
           | PATH ("," PATH)*               -> field_list

object_ref: PATH PATH?

where_clause: WHERE condition

?condition: unit
          | unit (AND unit)+                -> and_chain
          | unit (OR unit)+                 -> or_chain
          | NOT unit                        -> not_cond

?unit: comparison
     | "(" condition ")"

comparison: PATH CMP value                          -> cmp
          | PATH LIKE value                         -> like
          | PATH IN "(" value ("," value)* ")"      -> in_list
          | PATH NOT IN "(" value ("," value)* ")"  -> not_in_list
          | PATH IN "(" ")"                         -> in_empty
          | PATH NOT IN "(" ")"                     -> not_in_empty
          | PATH IN "(" subquery ")"                -> semi_join
          | PATH NOT IN "(" subquery ")"            -> anti_join

subquery: SELECT PATH FROM PATH where_clause?

?value: STRING | NUMBER | DATETIME | DATE | WORD

order_clause: ORDER BY order_item ("," order_item)*
order_item: PATH (ASC | DESC)? (NULLS (FIRST | LAST))?

limit_clause: LIMIT INT
offset_clause: OFFSET INT

SELECT.2: /select\b/i
FROM.2: /from\b/i
WHERE.2: /where\b/i
AND.2: /and\b/i
OR.2: /or\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
LIKE.2: /like\b/i
ORDER.2: /order\b/i
BY.2: /by\b/i
ASC.2: /asc\b/i
DESC.2: /desc\b/i
NULLS.2: /nulls\b/i
FIRST.2: /first\b/i
LAST.2: /last\b/i
LIMIT.2: /limit\b/i
OFFSET.2: /offset\b/i
COUNT.2: /count\b/i

PATH: /[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*/i
CMP: /!=|<>|<=|>=|=|<|>/
STRING: /'(?:[^'\\]|\\.)*'/s
DATETIME.3: /\d{4}-\d{2}-\d{2}[tT][0-9:.]*(?:[zZ]|[+-][0-9:]+)?/
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)/
WORD: /[a-z_][a-z0-9_]*(?::[+-]?\d+)?/i
INT: /\d+/

%import common.WS
%ignore WS
"""
