# A CPU-bound CPython workload in the spirit of pystone: records with
# attributes, small procedures, integer arithmetic, string comparisons,
# list indexing and loops; then a dict/str-heavy pass. It exercises the
# interpreter loop, attribute lookup, calls and the allocator, which is what
# a CPython built at -O0 spends its time on. Prints a checksum.
#
# Usage: pystone_like.py [LOOPS]   (default 60000)

import sys

IDENT_1, IDENT_2, IDENT_3, IDENT_4, IDENT_5 = range(1, 6)


class Record:
    __slots__ = ("ptr_comp", "discr", "enum_comp", "int_comp", "string_comp")

    def __init__(self, ptr_comp=None, discr=0, enum_comp=0, int_comp=0, string_comp=""):
        self.ptr_comp = ptr_comp
        self.discr = discr
        self.enum_comp = enum_comp
        self.int_comp = int_comp
        self.string_comp = string_comp

    def copy(self):
        return Record(self.ptr_comp, self.discr, self.enum_comp, self.int_comp, self.string_comp)


class State:
    def __init__(self):
        self.int_glob = 0
        self.bool_glob = False
        self.char1 = "\0"
        self.char2 = "\0"
        self.array1 = [0] * 51
        self.array2 = [[0] * 51 for _ in range(51)]
        self.ptr_glb = None
        self.ptr_glb_next = None


def func1(c1, c2):
    c1_loc = c1
    c2_loc = c1_loc
    if c2_loc != c2:
        return IDENT_1
    return IDENT_2


def func2(s1, s2, st):
    int_loc = 1
    char_loc = "A"
    while int_loc <= 1:
        if func1(s1[int_loc], s2[int_loc + 1]) == IDENT_1:
            char_loc = "A"
            int_loc = int_loc + 1
    if "W" <= char_loc <= "Z":
        int_loc = 7
    if char_loc == "X":
        return True
    if s1 > s2:
        int_loc = int_loc + 7
        st.int_glob = int_loc
        return True
    return False


def func3(enum_par):
    return enum_par == IDENT_3


def proc8(array1, array2, int1, int2, st):
    loc = int1 + 5
    array1[loc] = int2
    array1[loc + 1] = array1[loc]
    array1[loc + 30] = loc
    for idx in range(loc, loc + 2):
        array2[loc][idx] = loc
    array2[loc][loc - 1] = array2[loc][loc - 1] + 1
    array2[loc + 20][loc] = array1[loc]
    st.int_glob = 5


def proc7(int1, int2):
    return int2 + int1 + 2


def proc6(enum_par, st):
    enum_loc = enum_par
    if not func3(enum_par):
        enum_loc = IDENT_4
    if enum_par == IDENT_1:
        enum_loc = IDENT_1
    elif enum_par == IDENT_2:
        enum_loc = IDENT_1 if st.int_glob > 100 else IDENT_4
    elif enum_par == IDENT_3:
        enum_loc = IDENT_2
    elif enum_par == IDENT_5:
        enum_loc = IDENT_3
    return enum_loc


def proc5(st):
    st.char1 = "A"
    st.bool_glob = False


def proc4(st):
    bool_loc = st.char1 == "A"
    st.bool_glob = bool_loc or st.bool_glob
    st.char2 = "B"


def proc3(ptr_par, st):
    if st.ptr_glb is not None:
        ptr_par = st.ptr_glb.ptr_comp
    else:
        st.int_glob = 100
    st.ptr_glb.int_comp = proc7(10, st.int_glob)
    return ptr_par


def proc2(int_par, st):
    int_loc = int_par + 10
    while True:
        if st.char1 == "A":
            int_loc = int_loc - 1
            int_par = int_loc - st.int_glob
            enum_loc = IDENT_1
        if enum_loc == IDENT_1:
            break
    return int_par


def proc1(ptr_par, st):
    next_record = ptr_par.ptr_comp = st.ptr_glb.copy()
    ptr_par.int_comp = 5
    next_record.int_comp = ptr_par.int_comp
    next_record.ptr_comp = ptr_par.ptr_comp
    next_record.ptr_comp = proc3(next_record.ptr_comp, st)
    if next_record.discr == IDENT_1:
        next_record.int_comp = 6
        next_record.enum_comp = proc6(ptr_par.enum_comp, st)
        next_record.ptr_comp = st.ptr_glb.ptr_comp
        next_record.int_comp = proc7(next_record.int_comp, 10)
    else:
        ptr_par = next_record.copy()
    next_record.ptr_comp = None
    return ptr_par


def pystone(loops):
    st = State()
    st.ptr_glb_next = Record()
    st.ptr_glb = Record(st.ptr_glb_next, IDENT_1, IDENT_3, 40, "DHRYSTONE PROGRAM, SOME STRING")
    string1 = "DHRYSTONE PROGRAM, 1'ST STRING"
    st.array2[8][7] = 10
    checksum = 0
    for i in range(loops):
        proc5(st)
        proc4(st)
        int1 = 2
        int2 = 3
        string2 = "DHRYSTONE PROGRAM, 2'ND STRING"
        enum_loc = IDENT_2
        st.bool_glob = not func2(string1, string2, st)
        while int1 < int2:
            int3 = 5 * int1 - int2
            int3 = proc7(int1, int2)
            int1 = int1 + 1
        proc8(st.array1, st.array2, int1, int3, st)
        st.ptr_glb = proc1(st.ptr_glb, st)
        char_index = "A"
        while char_index <= st.char2:
            if enum_loc == func1(char_index, "C"):
                enum_loc = proc6(IDENT_1, st)
            char_index = chr(ord(char_index) + 1)
        int3 = int2 * int1
        int2 = int3 // int1
        int2 = 7 * (int3 - int2) - int1
        int1 = proc2(int1, st)
        checksum = (checksum * 31 + int1 + int2 + int3 + st.int_glob) & 0xFFFFFFFF
    return checksum


def words(n):
    # Dicts, string building and sorting.
    counts = {}
    for i in range(n):
        w = "w%d" % (i * 7919 % 1009)
        counts[w] = counts.get(w, 0) + 1
    text = ",".join(sorted(counts))
    return len(text) + sum(counts.values())


def main():
    loops = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    a = pystone(loops)
    b = words(loops * 2)
    print("pystone_like", loops, a, b)


main()
